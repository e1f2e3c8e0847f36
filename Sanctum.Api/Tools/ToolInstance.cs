using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;

using Sanctum.Api.Infrastructure;
using Sanctum.Api.Health;

namespace Sanctum.Api.Tools;

/// <summary>A row of <c>tool_instances</c>, also the wire type.</summary>
public sealed record ToolInstance
{
    public const string Columns = """
        id, tool_id, agent_id, name, config, status, status_source, status_since, status_reason, last_run, next_run, created_by,
        created_at, updated_at, is_active, health_check, next_check_at, check_failures, last_check_at, last_check_ok,
        last_check_latency_ms, last_check_error
        """;

    public long Id { get; init; }
    public required string ToolId { get; init; }
    [Text(50), Slug]
    public string? AgentId { get; init; }
    [Text(ToolInstancesApi.MaxName)]
    public string? Name { get; init; }
    public JsonNode? Config { get; init; }
    [OneOf(typeof(HealthStatus))]
    public required string Status { get; init; }
    /// <summary>manual (typed by an admin) or check (from the instance's health check).</summary>
    public required string StatusSource { get; init; }
    public string? StatusSince { get; init; }
    /// <summary>Why the status is what it is (the last check's finding), when a signal set it.</summary>
    public string? StatusReason { get; init; }
    public string? LastRun { get; init; }
    public string? NextRun { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
    public bool IsActive { get; init; }
    /// <summary>The instance's health check: {type: http|tcp|broca, target, interval_seconds, timeout_ms, expect_status, pending_factor}, or null.</summary>
    public JsonNode? HealthCheck { get; init; }
    public string? NextCheckAt { get; init; }
    public long CheckFailures { get; init; }
    public string? LastCheckAt { get; init; }
    public bool? LastCheckOk { get; init; }
    public long? LastCheckLatencyMs { get; init; }
    public string? LastCheckError { get; init; }
}

/// <summary>
/// The body of POST and PATCH /api/tools/{id}/instances. PATCH changes only the fields present and non-null.
/// </summary>
public sealed record ToolInstanceWrite
{
    /// <summary>The agent this instance serves; required for an agent-scoped tool, which has at most one instance per agent.</summary>
    [Text(50), Slug]
    public string? AgentId { get; init; }
    [Text(ToolInstancesApi.MaxName)]
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
    /// <summary>
    /// {type: http|tcp|broca, target: URL, host:port or the Broca folder, interval_seconds (10-86400, default 60), timeout_ms
    /// (50-60000, default 5000), expect_status (http; default any 2xx/3xx), pending_factor (broca; default 10)}. Absent
    /// leaves the check as it is; null removes it.
    /// </summary>
    public JsonElement HealthCheck { get; init; }
}
