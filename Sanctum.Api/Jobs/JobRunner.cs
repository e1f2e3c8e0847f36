using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;

using Sanctum.Api.Telemetry;

using Sanctum.Api.Events;
namespace Sanctum.Api.Jobs;

/// <summary>
/// Runs jobs under a lease in the database: one guarded UPDATE of the job's row takes it (only when no unexpired lease
/// is held, by this process or any other), the run is recorded in job_runs, and the lease is renewed while the run
/// lasts and given back at the end. A process that dies leaves a lease that simply expires.
/// </summary>
public sealed partial class JobRunner(Database database, IEnumerable<IJobKind> kinds, TimeProvider clock, AuditLog audit,
    MaintenanceGate gate, IServiceScopeFactory scopes, SanctumMetrics metrics, IEventPublisher events, ILogger<JobRunner> logger)
{
    public static readonly TimeSpan LeaseLength = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, IJobKind> _kinds = kinds.ToDictionary(k => k.Kind, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Task> _running = new();

    /// <summary>Who holds a lease: this process, distinct from every other (even one on the same machine with a reused id).</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public IReadOnlyCollection<IJobKind> Kinds => _kinds.Values;

    public IJobKind? Kind(string? kind) => kind is not null && _kinds.TryGetValue(kind, out var k) ? k : null;

    /// <summary>
    /// Takes the job's lease and records a started run, or returns null when someone holds the lease (or, with
    /// <paramref name="due"/>, when that occurrence was already taken). With <paramref name="due"/> the same UPDATE moves
    /// next_run_at on to <paramref name="next"/>, so each occurrence runs once however many processes see it.
    /// </summary>
    public JobRun? TryStart(long jobId, string trigger, string? due = null, string? next = null)
    {
        try
        {
            return Start(jobId, trigger, due, next);
        }
        catch (System.Data.Common.DbException e) when (DbErrors.IsBusy(e))
        {
            // PostgreSQL: another instance took the lease at the same moment (a serialization conflict on the job row).
            return null;
        }
    }

    private JobRun? Start(long jobId, string trigger, string? due, string? next)
    {
        var now = clock.GetUtcNow();
        using var db = database.Open();
        using var tx = db.BeginTransaction();
        var taken = db.Execute($"""
            UPDATE jobs SET lease_owner = @owner, lease_until = @until{(due is null ? "" : ", next_run_at = @next")}
            WHERE id = @jobId AND (lease_until IS NULL OR lease_until <= @now){(due is null ? "" : " AND enabled = TRUE AND next_run_at = @due")}
            """, new { owner = Owner, until = Timestamp.From(now + LeaseLength), jobId, now = Timestamp.From(now), due, next }, tx);
        if (taken == 0) return null;
        var run = db.QuerySingle<JobRun>($"""
            INSERT INTO job_runs (job_id, trigger, started_at) VALUES (@jobId, @trigger, @now) RETURNING {JobRun.Columns}
            """, new { jobId, trigger, now = Timestamp.From(now) }, tx);
        tx.Commit();
        events.Publish("jobs", "job.run.started", run, EventAudience.Admins);
        return run;
    }

    /// <summary>Runs a started run in the background; <see cref="WhenIdleAsync"/> waits for all of them.</summary>
    public void RunInBackground(JobRun run, CancellationToken cancellationToken = default)
    {
        var task = Task.Run(() => RunAsync(run, cancellationToken), CancellationToken.None);
        _running[run.Id] = task;
        task.ContinueWith(_ => _running.TryRemove(run.Id, out Task? _), TaskScheduler.Default);
    }

    public Task WhenIdleAsync() => Task.WhenAll(_running.Values);

    /// <summary>Runs a started run to its end, records the outcome and gives the lease back.</summary>
    public async Task<JobRun> RunAsync(JobRun run, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        // Every line logged during the run carries its id, so the run's log lines can be listed (GET /api/logs?job_run_id=).
        using var logScope = logger.BeginScope(new Dictionary<string, object> { [Logs.LogStoreProvider.JobRunScope] = run.Id, ["JobId"] = run.JobId });
        JobResult result;
        string name = "", kindName = "";
        using var renew = new Timer(_ => Renew(run.JobId), null, LeaseLength / 3, LeaseLength / 3);
        try
        {
            using var entered = await gate.EnterAsync(TimeSpan.FromMinutes(10), cancellationToken)
                ?? throw new TimeoutException("The database was being restored for over 10 minutes.");
            string? parameters;
            using (var db = database.Open())
                (name, kindName, parameters) = db.QuerySingle<(string, string, string?)>("SELECT name, kind, params FROM jobs WHERE id = @id", new { id = run.JobId });
            if (Kind(kindName) is not { } kind)
            {
                result = JobResult.Skipped($"This build has no job kind '{kindName}'.");
            }
            else
            {
                using var json = JsonDocument.Parse(parameters ?? "{}");
                using var scope = scopes.CreateScope();
                result = await kind.RunAsync(new JobRunContext(run.JobId, name, json.RootElement.Clone(), scope.ServiceProvider), cancellationToken);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "Job {JobId} run {RunId} failed.", run.JobId, run.Id);
            result = JobResult.Failed(e.Message);
        }
        var finished = Finish(run, result, watch.ElapsedMilliseconds);
        metrics.JobRun(kindName, result.Outcome);
        LogRunFinished(logger, run.JobId, run.Id, kindName, result.Outcome, finished.DurationMs);
        audit.Record(new AuditEvent("job.run", "job", run.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new { name, kind = kindName, trigger = run.Trigger, run_id = run.Id, duration_ms = finished.DurationMs }, result.Outcome));
        return finished;
    }

    private JobRun Finish(JobRun run, JobResult result, long durationMs)
    {
        using var db = database.Open();
        using var tx = db.BeginTransaction();
        var finished = db.QuerySingle<JobRun>($"""
            UPDATE job_runs SET finished_at = @now, outcome = @outcome, message = @message, duration_ms = @durationMs
            WHERE id = @id RETURNING {JobRun.Columns}
            """, new { id = run.Id, now = Timestamp.Now(clock), outcome = result.Outcome, message = Truncate(result.Message), durationMs }, tx);
        db.Execute("UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = @id AND lease_owner = @owner",
            new { id = run.JobId, owner = Owner }, tx);
        tx.Commit();
        events.Publish("jobs", "job.run.finished", finished, EventAudience.Admins);
        return finished;
    }

    private void Renew(long jobId)
    {
        try
        {
            using var db = database.Open();
            db.Execute("UPDATE jobs SET lease_until = @until WHERE id = @jobId AND lease_owner = @owner",
                new { jobId, owner = Owner, until = Timestamp.From(clock.GetUtcNow() + LeaseLength) });
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
        {
            logger.LogWarning(e, "Could not renew the lease of job {JobId}.", jobId);
        }
    }

    public const int MaxMessage = 2000;

    private static string? Truncate(string? message) => message is { Length: > MaxMessage } ? message[..MaxMessage] : message;

    [LoggerMessage(EventId = 9200, Level = LogLevel.Information, Message = "Job {JobId} run {RunId} ({Kind}) ended {Outcome} after {DurationMs} ms")]
    private static partial void LogRunFinished(ILogger logger, long jobId, long runId, string kind, string outcome, long? durationMs);
}
