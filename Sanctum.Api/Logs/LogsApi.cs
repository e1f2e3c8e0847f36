using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sanctum.Api.Auth;
using Sanctum.Api.Events;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Logs;

/// <summary>The service's own log lines (admin): a filtered page, newest first, and a download of a range as JSON lines.</summary>
public static class LogsApi
{
    public const int DefaultLimit = 100, MaxLimit = 1000, MaxSearch = 200;

    /// <summary>How long a read waits for lines still queued (so a read sees what was logged before it).</summary>
    private static readonly TimeSpan FlushWait = TimeSpan.FromSeconds(1);

    public static readonly string[] Levels = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"];

    public static IServiceCollection AddLogStore(this IServiceCollection services)
    {
        services.AddSingleton<LogStore>();
        services.AddSingleton<ILoggerProvider, LogStoreProvider>();
        services.AddSingleton<LogStoreWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LogStoreWriter>());
        services.AddEventTopic("logs", TopicAccess.Admins, "logs.appended: new lines in the service log of the instance serving the stream (count); read them with GET /api/logs");
        return services;
    }

    public static RouteGroupBuilder MapLogs(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/logs").WithTags("Logs").RequireAdmin();
        group.MapGet("/", List).WithName("ListLogs").Paged(MaxLimit)
            .WithSummary("The service's log lines, newest first (admin): level= is that level and above; search matches message and category; since/until bound the time; page on with cursor = next_cursor");
        group.MapGet("/download", Download).WithName("DownloadLogs")
            .WithSummary("The lines of a time range (and the same filters) as JSON lines, oldest first, as a file (admin)")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson");
        return group;
    }

    /// <summary>The filters both endpoints take.</summary>
    public sealed record LogQuery(
        string? Level = null, string? Category = null, string? Search = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null,
        long? JobRunId = null, long? InstanceId = null);

    private static async Task<Results<Ok<LogPage>, ValidationProblem>> List(
        LogStore store, [OneOf(typeof(LogsApi), nameof(Levels))] string? level = null, [Text(LogStore.MaxCategory)] string? category = null,
        [Text(MaxSearch)] string? search = null, DateTimeOffset? since = null,
        DateTimeOffset? until = null, [FromQuery(Name = "job_run_id")] long? jobRunId = null,
        [FromQuery(Name = "instance_id")] long? instanceId = null, int? limit = null, long? cursor = null)
    {
        var query = new LogQuery(level, category, search, since, until, jobRunId, instanceId);
        var errors = Check(query);
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (cursor is < 1) errors.Add("cursor", "Must be a next_cursor from an earlier page.");
        if (errors.Any) return Problems.Invalid(errors);

        await store.FlushAsync(FlushWait);
        var take = (limit ?? DefaultLimit) + 1;
        var (where, args) = Where(query, cursor);
        args.Add("take", take);
        List<LogLine> rows;
        await using (var db = store.Open())
            rows = (await db.QueryAsync<StoredLine>($"SELECT {StoredLine.Columns} FROM log_lines {where} ORDER BY id DESC LIMIT @take", args))
                .Select(r => r.ToLine()).ToList();
        var more = rows.Count == take;
        if (more) rows.RemoveAt(rows.Count - 1);
        return TypedResults.Ok(new LogPage(rows, more ? rows[^1].Id : null));
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem>> Download(
        LogStore store, TimeProvider clock, [OneOf(typeof(LogsApi), nameof(Levels))] string? level = null,
        [Text(LogStore.MaxCategory)] string? category = null, [Text(MaxSearch)] string? search = null,
        DateTimeOffset? since = null, DateTimeOffset? until = null, [FromQuery(Name = "job_run_id")] long? jobRunId = null,
        [FromQuery(Name = "instance_id")] long? instanceId = null)
    {
        var query = new LogQuery(level, category, search, since, until, jobRunId, instanceId);
        var errors = Check(query);
        if (errors.Any) return Problems.Invalid(errors);
        await store.FlushAsync(FlushWait);
        var (where, args) = Where(query, cursor: null);
        var name = $"sanctum-logs-{clock.GetUtcNow().UtcDateTime:yyyyMMdd-HHmmss}.jsonl";
        return TypedResults.Stream(async body =>
        {
            await using var db = store.Open();
            await using var writer = new StreamWriter(body, new System.Text.UTF8Encoding(false));
            await using var reader = await db.ExecuteReaderAsync($"SELECT {StoredLine.Columns} FROM log_lines {where} ORDER BY id", args);
            var parser = reader.GetRowParser<StoredLine>();
            while (await reader.ReadAsync())
            {
                await writer.WriteAsync(JsonSerializer.Serialize(parser(reader).ToLine(), Json));
                await writer.WriteAsync('\n');
            }
        }, "application/x-ndjson", name);
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static Errors Check(LogQuery q)
    {
        var errors = new Errors();
        if (q.JobRunId is < 1) errors.Add("job_run_id", "Must be a job run's id.");
        if (q.InstanceId is < 1) errors.Add("instance_id", "Must be a tool instance's id.");
        return errors;
    }

    // Only the filters given, each a constant fragment; a category is matched as a dotted prefix (Sanctum.Api = Sanctum.Api.*).
    private static (string Where, DynamicParameters Args) Where(LogQuery q, long? cursor)
    {
        var args = new DynamicParameters();
        var filters = new List<string>();
        if (q.Level is not null) { filters.Add("level >= @level"); args.Add("level", Array.IndexOf(Levels, q.Level)); }
        if (q.Category is not null)
        {
            filters.Add("(category = @category OR substr(category, 1, @prefixLength) = @prefix)");
            args.Add("category", q.Category); args.Add("prefix", q.Category + "."); args.Add("prefixLength", q.Category.Length + 1);
        }
        if (q.Search is not null)
        {
            filters.Add("(instr(lower(message), lower(@search)) > 0 OR instr(lower(category), lower(@search)) > 0)");
            args.Add("search", q.Search);
        }
        if (q.Since is { } since) { filters.Add("at >= @since"); args.Add("since", LogStore.Time(since)); }
        if (q.Until is { } until) { filters.Add("at < @until"); args.Add("until", LogStore.Time(until)); }
        if (q.JobRunId is { } run) { filters.Add("job_run_id = @jobRunId"); args.Add("jobRunId", run); }
        if (q.InstanceId is { } instance) { filters.Add("instance_id = @instanceId"); args.Add("instanceId", instance); }
        if (cursor is { } c) { filters.Add("id < @cursor"); args.Add("cursor", c); }
        return (filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters), args);
    }

    private sealed record StoredLine
    {
        public const string Columns = "id, at, level, category, message, event_id, event_name, trace_id, job_run_id, instance_id, exception, properties";
        public long Id { get; init; }
        public string At { get; init; } = "";
        public long Level { get; init; }
        public string Category { get; init; } = "";
        public string Message { get; init; } = "";
        public long? EventId { get; init; }
        public string? EventName { get; init; }
        public string? TraceId { get; init; }
        public long? JobRunId { get; init; }
        public long? InstanceId { get; init; }
        public string? Exception { get; init; }
        public string Properties { get; init; } = "{}";

        public LogLine ToLine() => new()
        {
            Id = Id, At = At, Level = Level is >= 0 and < 6 ? Levels[Level] : "Critical", Category = Category, Message = Message,
            EventId = EventId is { } e ? (int)e : null, EventName = EventName, TraceId = TraceId, JobRunId = JobRunId, InstanceId = InstanceId,
            Exception = Exception, Properties = JsonSerializer.Deserialize<Dictionary<string, string?>>(Properties) ?? [],
        };
    }
}
