using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Sanctum.Api.Health;

namespace Sanctum.Api.Tools;

/// <summary>A row of <c>tools</c>; every column is public, so the row is also the wire type.</summary>
public sealed record Tool
{
    public const string Columns = "id, name, description, emoji, category, status, status_source, status_since, status_reason, route_path, is_enabled, module_scope, config_schema, created_by, created_at, updated_at";

    [MaxLength(50)]
    [RegularExpression(FieldChecks.SlugPattern)]
    public required string Id { get; init; }
    [MaxLength(ToolRules.MaxName)]
    public required string Name { get; init; }
    [MaxLength(ToolRules.MaxDescription)]
    public string? Description { get; init; }
    [MaxLength(ToolRules.MaxEmoji)]
    public string? Emoji { get; init; }
    [MaxLength(50)]
    [RegularExpression(FieldChecks.SlugPattern)]
    public required string Category { get; init; }
    [OneOf(typeof(HealthStatus))]
    public required string Status { get; init; }
    /// <summary>Where the status comes from: manual (typed by an admin), check (health checks) or relay (chat relay polls).</summary>
    public required string StatusSource { get; init; }
    /// <summary>When the status last changed.</summary>
    public string? StatusSince { get; init; }
    /// <summary>Why, when a signal set it.</summary>
    public string? StatusReason { get; init; }
    [MaxLength(ToolRules.MaxRoutePath)]
    [RegularExpression(ToolRules.RoutePathPattern)]
    public string? RoutePath { get; init; }
    public bool IsEnabled { get; init; }
    [OneOf(typeof(ToolRules), nameof(ToolRules.Scopes))]
    public required string ModuleScope { get; init; }
    public JsonNode? ConfigSchema { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

public sealed record ToolCategory
{
    [MaxLength(50)]
    [RegularExpression(FieldChecks.SlugPattern)]
    public required string Category { get; init; }
    public long Count { get; init; }
}
