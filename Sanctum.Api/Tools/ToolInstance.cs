using Sanctum.Api.OpenApi;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Tools;

/// <summary>A row of <c>tool_instances</c>, also the wire type.</summary>
public sealed record ToolInstance
{
    public const string Columns = "id, tool_id, agent_id, name, config, status, last_run, next_run, created_by, created_at, updated_at, is_active";

    public long Id { get; init; }
    public required string ToolId { get; init; }
    public string? AgentId { get; init; }
    [MaxLength(ToolInstancesApi.MaxName)]
    public string? Name { get; init; }
    public JsonNode? Config { get; init; }
    [OneOf(typeof(HealthStatus))]
    public required string Status { get; init; }
    public string? LastRun { get; init; }
    public string? NextRun { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
    public bool IsActive { get; init; }
}

/// <summary>
/// The body of POST and PATCH /api/tools/{id}/instances. PATCH changes only the fields present and non-null.
/// </summary>
public sealed record ToolInstanceWrite
{
    /// <summary>The agent this instance serves; required for an agent-scoped tool, which has at most one instance per agent.</summary>
    public string? AgentId { get; init; }
    [MaxLength(ToolInstancesApi.MaxName)]
    public string? Name { get; init; }
    /// <summary>A JSON object.</summary>
    public JsonElement? Config { get; init; }
    /// <summary>Healthy, Degraded, Off or Ready (default Ready).</summary>
    [OneOf(typeof(HealthStatus))]
    public string? Status { get; init; }
    /// <summary>ISO-8601; stored and returned in UTC with whole seconds.</summary>
    public DateTimeOffset? LastRun { get; init; }
    public DateTimeOffset? NextRun { get; init; }
    public bool? IsActive { get; init; }
}
