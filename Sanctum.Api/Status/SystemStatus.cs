using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Health;
namespace Sanctum.Api.Status;

public sealed record SystemStatus(
    [property: OneOf("Healthy", "Degraded")] string Status,
    [property: MaxLength(50)] string Version,
    string Timestamp,
    long UptimeSeconds,
    DatabaseStatus Database,
    ToolCounts Tools,
    AgentCounts Agents,
    IReadOnlyList<AttentionItem> Attention);

public sealed record DatabaseStatus([property: OneOf("Healthy")] string Status, long SchemaVersion);

public sealed record ToolCounts(long Total, long Enabled, IReadOnlyDictionary<string, long> ByStatus);

public sealed record AgentCounts(long Total, long Active, IReadOnlyDictionary<string, long> ByStatus);

/// <summary>An enabled tool or active agent that is neither Healthy nor Ready.</summary>
public sealed record AttentionItem
{
    [OneOf("tool", "agent")]
    public required string Kind { get; init; }
    [MaxLength(50)]
    [RegularExpression(FieldChecks.SlugPattern)]
    public required string Id { get; init; }
    [MaxLength(100)]
    public required string Name { get; init; }
    [OneOf(typeof(HealthStatus))]
    public required string Status { get; init; }
}
