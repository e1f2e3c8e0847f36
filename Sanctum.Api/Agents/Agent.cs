using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Sanctum.Api.Health;

namespace Sanctum.Api.Agents;

/// <summary>A row of <c>agents</c>, also the wire type; the status follows relay presence (<see cref="RelayPresence"/>).</summary>
public sealed record Agent
{
    public const string Columns = "id, name, display_name, description, status, status_source, status_since, status_reason, is_active, visible_to_users, visible_to_roles, created_by, letta_uid, config, created_at, updated_at";

    [MaxLength(50)]
    [RegularExpression(FieldChecks.SlugPattern)]
    public required string Id { get; init; }
    [MaxLength(AgentRules.MaxName)]
    public required string Name { get; init; }
    [MaxLength(AgentRules.MaxName)]
    public string? DisplayName { get; init; }
    [MaxLength(AgentRules.MaxDescription)]
    public string? Description { get; init; }
    [OneOf(typeof(HealthStatus))]
    public required string Status { get; init; }
    /// <summary>Where the status comes from: manual (typed by an admin), check (health checks) or relay (chat relay polls).</summary>
    public required string StatusSource { get; init; }
    /// <summary>When the status last changed.</summary>
    public string? StatusSince { get; init; }
    /// <summary>Why, when a signal set it.</summary>
    public string? StatusReason { get; init; }
    /// <summary>When a relay last polled this agent's chat inbox (its own key or the global key); null when never.</summary>
    public string? LastRelayPollAt { get; init; }
    public bool IsActive { get; init; }
    public JsonNode? VisibleToUsers { get; init; }
    public JsonNode? VisibleToRoles { get; init; }
    public long? CreatedBy { get; init; }
    [MaxLength(FieldChecks.MaxText)]
    public string? LettaUid { get; init; }
    public JsonNode? Config { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}
