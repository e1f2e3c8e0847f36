namespace Sanctum.Api.Status;

public sealed record SystemStatus(
    string Status,
    string Version,
    string Timestamp,
    long UptimeSeconds,
    DatabaseStatus Database,
    ToolCounts Tools,
    AgentCounts Agents,
    IReadOnlyList<AttentionItem> Attention);

public sealed record DatabaseStatus(string Status, long SchemaVersion);

public sealed record ToolCounts(long Total, long Enabled, IReadOnlyDictionary<string, long> ByStatus);

public sealed record AgentCounts(long Total, long Active, IReadOnlyDictionary<string, long> ByStatus);

/// <summary>An enabled tool or active agent that is neither Healthy nor Ready.</summary>
public sealed record AttentionItem
{
    public required string Kind { get; init; }
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Status { get; init; }
}
