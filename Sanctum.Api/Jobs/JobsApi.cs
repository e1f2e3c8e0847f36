using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Jobs.Kinds;

namespace Sanctum.Api.Jobs;

/// <summary>Scheduled jobs (admin): CRUD, run now, run history. The scheduler itself is <see cref="JobScheduler"/>.</summary>
public static class JobsApi
{
    public const int MaxName = 100, DefaultRuns = 50, MaxRuns = 500, PreviewRuns = 5;

    public static IServiceCollection AddJobs(this IServiceCollection services)
    {
        services.AddSingleton<JobSchedule>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        services.AddSingleton<IJobKind, AuditRetentionJob>();
        services.AddSingleton<IJobKind, BackupJob>();
        services.AddSingleton<IJobKind, PurgeSessionsJob>();
        services.AddSingleton<IJobKind, ChatRetentionJob>();
        return services;
    }

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/jobs").WithTags("Jobs").WithRequestExamples(JobExamples.All).RequireAdmin();
        group.MapGet("/", List).WithName("ListJobs").WithSummary("The scheduled jobs by name, each with its schedule in words, next run and last run");
        group.MapGet("/kinds", Kinds).WithName("ListJobKinds").WithSummary("The kinds of job this build can run, with their params");
        group.MapGet("/schedule", Preview).WithName("PreviewJobSchedule")
            .WithSummary("A 5-field cron schedule read back before it is saved: in words and its next five runs (read in Sanctum:TimeZone)");
        group.MapPost("/", Create).WithName("CreateJob")
            .WithSummary("Add a job: name, kind, 5-field cron schedule (read in Sanctum:TimeZone, UTC by default), enabled, params")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:long}", Get).WithName("GetJob").WithSummary("One job").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id:long}", Patch).WithName("UpdateJob")
            .WithSummary("Change the fields present; enabled false pauses the job, true resumes it from now")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id:long}", Delete).WithName("DeleteJob").WithSummary("Delete a job and its run history")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id:long}/run", Run).WithName("RunJob")
            .WithSummary("Run the job now, in the background: 202 with the started run; 409 while it is already running (here or in another process)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:long}/runs", Runs).WithName("ListJobRuns").WithSummary("The job's runs, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound).Paged(MaxRuns);
        return group;
    }

    private static async Task<Ok<List<Job>>> List(DbConnection db, JobSchedule schedule, TimeProvider clock) =>
        TypedResults.Ok(await LoadAsync(db, null, schedule, clock));

    private static Ok<IEnumerable<JobKindInfo>> Kinds(JobRunner runner) =>
        TypedResults.Ok(runner.Kinds.OrderBy(k => k.Kind, StringComparer.Ordinal).Select(k => new JobKindInfo(k.Kind, k.Description, k.Params)));

    private static Results<Ok<SchedulePreview>, ValidationProblem> Preview(
        JobSchedule schedule, TimeProvider clock, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "schedule")] string? expression)
    {
        if (JobSchedule.Problem(expression) is { } problem) return Problems.Invalid("schedule", problem);
        var runs = new List<string>(PreviewRuns);
        var after = clock.GetUtcNow();
        while (runs.Count < PreviewRuns && schedule.Next(expression!, after) is { } next)
        {
            runs.Add(Timestamp.From(next));
            after = next;
        }
        return TypedResults.Ok(new SchedulePreview(schedule.Describe(expression!), runs));
    }

    private static async Task<Results<Ok<Job>, ProblemHttpResult>> Get(long id, DbConnection db, JobSchedule schedule, TimeProvider clock) =>
        (await LoadAsync(db, id, schedule, clock)).SingleOrDefault() is { } job ? TypedResults.Ok(job) : Problems.NotFound($"Job {id}");

    private static async Task<Results<Created<Job>, ValidationProblem, ProblemHttpResult>> Create(
        JobWrite body, DbConnection db, JobRunner runner, JobSchedule schedule, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var errors = Check(body, runner, creating: true, existingKind: null);
        if (errors.Any) return Problems.Invalid(errors);

        var now = clock.GetUtcNow();
        var enabled = body.Enabled ?? true;
        var next = enabled ? schedule.Next(body.Schedule!, now) : null;
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await NameTakenAsync(db, tx, body.Name!, 0)) return Taken(body.Name!);
        var id = await db.ExecuteScalarAsync<long>("""
            INSERT INTO jobs (name, kind, schedule, enabled, params, next_run_at, created_at, updated_at)
            VALUES (@name, @kind, @schedule, @enabled, @params, @next, @now, @now) RETURNING id
            """, new
            {
                name = body.Name!.Trim(), kind = body.Kind, schedule = body.Schedule!.Trim(), enabled, @params = ParamsText(body.Params),
                next = next is { } n ? Timestamp.From(n) : null, now = Timestamp.From(now),
            }, tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("job.created", "job", Id(id), new { kind = body.Kind, schedule = body.Schedule, enabled }), http);
        var job = (await LoadAsync(db, id, schedule, clock)).Single();
        return TypedResults.Created($"/api/jobs/{id}", job);
    }

    private static async Task<Results<Ok<Job>, ValidationProblem, ProblemHttpResult>> Patch(
        long id, JobWrite body, DbConnection db, JobRunner runner, JobSchedule schedule, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var current = await db.QuerySingleOrDefaultAsync<(string Kind, string Schedule, bool Enabled)?>("SELECT kind, schedule, enabled FROM jobs WHERE id = @id", new { id });
        if (current is not { } was) return Problems.NotFound($"Job {id}");
        var errors = Check(body, runner, creating: false, existingKind: was.Kind);
        if (errors.Any) return Problems.Invalid(errors);

        var now = clock.GetUtcNow();
        var enabled = body.Enabled ?? was.Enabled;
        var expression = body.Schedule?.Trim() ?? was.Schedule;
        var replan = body.Schedule is not null || (body.Enabled is not null && body.Enabled != was.Enabled);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (body.Name is not null && await NameTakenAsync(db, tx, body.Name, id)) return Taken(body.Name);
        await db.ExecuteAsync("""
            UPDATE jobs SET name = coalesce(@name, name), kind = coalesce(@kind, kind), schedule = @schedule, enabled = @enabled,
                params = coalesce(@params, params), next_run_at = CASE WHEN @replan THEN @next ELSE next_run_at END, updated_at = @now
            WHERE id = @id
            """, new
            {
                id, name = body.Name?.Trim(), kind = body.Kind, schedule = expression, enabled, @params = body.Params is null ? null : ParamsText(body.Params),
                replan, next = enabled && schedule.Next(expression, now) is { } n ? Timestamp.From(n) : null, now = Timestamp.From(now),
            }, tx);
        await tx.CommitAsync();
        var changed = new[] { body.Name is null ? null : "name", body.Kind is null ? null : "kind", body.Schedule is null ? null : "schedule",
            body.Enabled is null ? null : "enabled", body.Params is null ? null : "params" }.OfType<string>();
        audit.Record(new AuditEvent("job.updated", "job", Id(id), new { fields = changed, enabled }), http);
        return TypedResults.Ok((await LoadAsync(db, id, schedule, clock)).Single());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(long id, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var name = await db.ExecuteScalarAsync<string?>("SELECT name FROM jobs WHERE id = @id", new { id });
        if (name is null) return Problems.NotFound($"Job {id}");
        var deleted = await db.ExecuteAsync("DELETE FROM jobs WHERE id = @id AND (lease_until IS NULL OR lease_until <= @now)", new { id, now = Timestamp.Now(clock) });
        if (deleted == 0) return Problems.Conflict($"Job {id} is running; delete it when the run has finished.");
        audit.Record(new AuditEvent("job.deleted", "job", Id(id), new { name }), http);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<JobRun>, ProblemHttpResult>> Run(long id, DbConnection db, JobRunner runner, AuditLog audit, HttpContext http)
    {
        if (!await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM jobs WHERE id = @id)", new { id })) return Problems.NotFound($"Job {id}");
        if (runner.TryStart(id, "manual") is not { } run) return Problems.Conflict($"Job {id} is already running.");
        audit.Record(new AuditEvent("job.run.requested", "job", Id(id), new { run_id = run.Id }), http);
        runner.RunInBackground(run);
        return TypedResults.Accepted($"/api/jobs/{id}/runs", run);
    }

    private static async Task<Results<Ok<IEnumerable<JobRun>>, ValidationProblem, ProblemHttpResult>> Runs(long id, DbConnection db, int? limit = null)
    {
        if (limit is < 1 or > MaxRuns) return Problems.Invalid("limit", $"Must be 1 to {MaxRuns}.");
        if (!await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM jobs WHERE id = @id)", new { id })) return Problems.NotFound($"Job {id}");
        return TypedResults.Ok(await db.QueryAsync<JobRun>($"SELECT {JobRun.Columns} FROM job_runs WHERE job_id = @id ORDER BY id DESC LIMIT @limit",
            new { id, limit = limit ?? DefaultRuns }));
    }

    private static Errors Check(JobWrite body, JobRunner runner, bool creating, string? existingKind)
    {
        var errors = new Errors();
        if (creating) errors.Required("name", body.Name);
        if (body.Schedule is not null || creating)
        {
            if (JobSchedule.Problem(body.Schedule) is { } problem) errors.Add("schedule", problem);
        }
        var kindName = body.Kind ?? existingKind;
        var kind = runner.Kind(kindName);
        if (body.Kind is not null || creating)
        {
            if (kind is null)
                errors.Add("kind", body.Kind is null ? "This field is required." : $"Must be one of: {string.Join(", ", runner.Kinds.Select(k => k.Kind).Order(StringComparer.Ordinal))}.");
        }
        if (body.Params is { ValueKind: not JsonValueKind.Object and not JsonValueKind.Null })
            errors.Add("params", "Must be an object.");
        else if (kind is not null && (body.Params is not null || creating || body.Kind is not null))
        {
            using var empty = JsonDocument.Parse("{}");
            kind.Validate(body.Params is { ValueKind: JsonValueKind.Object } p ? p : empty.RootElement, errors);
        }
        return errors;
    }

    private static string ParamsText(JsonElement? parameters) =>
        parameters is { ValueKind: JsonValueKind.Object } p ? p.GetRawText() : "{}";

    private static async Task<bool> NameTakenAsync(DbConnection db, DbTransaction tx, string name, long id) =>
        await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM jobs WHERE lower(name) = lower(@name) AND id <> @id)", new { name = name.Trim(), id }, tx);

    private static ProblemHttpResult Taken(string name) => Problems.Conflict($"A job named '{name.Trim()}' already exists.");

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Jobs (one, or all by name) with their schedule text, running state and last run.</summary>
    private static async Task<List<Job>> LoadAsync(DbConnection db, long? id, JobSchedule schedule, TimeProvider clock)
    {
        var now = Timestamp.Now(clock);
        var jobs = (await db.QueryAsync<Job>($"SELECT {Job.Columns} FROM jobs WHERE @id IS NULL OR id = @id ORDER BY name", new { id })).ToList();
        var last = (await db.QueryAsync<JobRun>($"""
            SELECT {JobRun.Columns} FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs WHERE @id IS NULL OR job_id = @id GROUP BY job_id)
            """, new { id })).ToDictionary(r => r.JobId);
        return jobs.Select(j => j with
        {
            ScheduleText = JobSchedule.Problem(j.Schedule) is null ? schedule.Describe(j.Schedule) : "invalid schedule",
            Running = j.LeaseUntil is not null && string.CompareOrdinal(j.LeaseUntil, now) > 0,
            LastRun = last.GetValueOrDefault(j.Id),
        }).ToList();
    }
}
