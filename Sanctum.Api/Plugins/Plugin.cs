using Sanctum.Api.Tools;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;

using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Plugins;

/// <summary>A row of <c>plugins</c> as the API shows it; module_scope is the tool's (a NULL column inherits it).</summary>
public sealed record Plugin
{
    public const string Select = """
        SELECT p.id, p.tool_id, p.name, COALESCE(p.module_scope, t.module_scope) AS module_scope, p.version, p.status,
               p.config, p.dependencies, p.is_enabled, p.created_by, p.created_at, p.updated_at
        FROM plugins p JOIN tools t ON t.id = p.tool_id
        """;

    public long Id { get; init; }
    public required string ToolId { get; init; }
    [MaxLength(PluginsApi.MaxNameLength)]
    public required string Name { get; init; }
    [OneOf(typeof(ToolRules), nameof(ToolRules.Scopes))]
    public required string ModuleScope { get; init; }
    [MaxLength(PluginsApi.MaxVersionLength)]
    public string? Version { get; init; }
    [OneOf(typeof(PluginStatus))]
    public required string Status { get; init; }
    public JsonNode? Config { get; init; }
    /// <summary>Names of plugins of the same tool that this one needs.</summary>
    public JsonNode? Dependencies { get; init; }
    public bool IsEnabled { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

/// <summary>The body of POST (name required) and PATCH (every field optional; absent fields stay as they are).</summary>
public sealed record PluginRequest
{
    [Text(PluginsApi.MaxNameLength, NotBlank = true)]
    public string? Name { get; init; }
    [Text(PluginsApi.MaxVersionLength)]
    public string? Version { get; init; }
    /// <summary>Active, Inactive or Error (new plugins: Inactive).</summary>
    [OneOf(typeof(PluginStatus))]
    public string? Status { get; init; }
    /// <summary>A JSON object; send {} to clear it.</summary>
    public JsonElement? Config { get; init; }
    /// <summary>Names of other plugins of the same tool; no cycles.</summary>
    [ListOf(PluginDependencies.MaxCount, AllowNulls = true)]
    public List<string?>? Dependencies { get; init; }
    public bool? IsEnabled { get; init; }
}

public static class PluginStatus
{
    public static readonly string[] All = ["Active", "Inactive", "Error"];
}
