using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Logs;

/// <summary>One structured log event as the store keeps it, before it has an id.</summary>
public sealed record LogRecord(
    DateTimeOffset At, LogLevel Level, string Category, string Message, int? EventId, string? EventName,
    string? TraceId, long? JobRunId, long? InstanceId, string? Exception, IReadOnlyDictionary<string, string?> Properties);

/// <summary>One kept line, as <c>GET /api/logs</c> returns it.</summary>
public sealed record LogLine
{
    public long Id { get; init; }
    /// <summary>ISO-8601 UTC with milliseconds.</summary>
    [MaxLength(24), RegularExpression(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    public required string At { get; init; }
    [OneOf("Trace", "Debug", "Information", "Warning", "Error", "Critical")]
    public required string Level { get; init; }
    [MaxLength(LogStore.MaxCategory)]
    public required string Category { get; init; }
    [MaxLength(LogStore.MaxMessage)]
    public required string Message { get; init; }
    public int? EventId { get; init; }
    [MaxLength(LogStore.MaxEventName)]
    public string? EventName { get; init; }
    [MaxLength(LogStore.MaxTraceId)]
    public string? TraceId { get; init; }
    /// <summary>The job run (job_runs.id) the line was written during, if any.</summary>
    public long? JobRunId { get; init; }
    /// <summary>The tool instance whose health check the line was written during, if any.</summary>
    public long? InstanceId { get; init; }
    [MaxLength(LogStore.MaxException)]
    public string? Exception { get; init; }
    /// <summary>The event's structured values and those of its scopes, as text; secret-named ones are "********".</summary>
    [Entries(LogStoreProvider.MaxProperties, LogStoreProvider.MaxValue)]
    public required IReadOnlyDictionary<string, string?> Properties { get; init; }
}

/// <summary>A page of lines, newest first; pass <c>next_cursor</c> as <c>cursor</c> for the next (older) page, null at the end.</summary>
public sealed record LogPage([property: MaxLength(LogsApi.MaxLimit)] IReadOnlyList<LogLine> Items, long? NextCursor);
