using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Settings;

/// <summary>A row of <c>configurations</c> as the API shows it: the value in its type, a secret's masked unless an admin reveals it.</summary>
public sealed record Configuration
{
    public long Id { get; init; }
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    public JsonNode? Value { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [OneOf(typeof(ConfigurationScopes))]
    public required string Scope { get; init; }
    /// <summary>The agent id, tool id, tool instance id or user id the value belongs to; null for system.</summary>
    [MaxLength(100)]
    public string? ScopeId { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    public bool IsEncrypted { get; init; }
    public long? CreatedBy { get; init; }
    /// <summary>The latest recorded change (0 before any), as in the ETag.</summary>
    public long Version { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }

    public static Configuration Of(StoredSetting row, JsonNode? value) => new()
    {
        Id = row.Id, Key = row.Key, Value = value, Type = row.Type, Scope = row.Scope, ScopeId = row.ScopeId, Description = row.Description,
        IsEncrypted = row.IsEncrypted, CreatedBy = row.CreatedBy, Version = row.Version, CreatedAt = row.CreatedAt, UpdatedAt = row.UpdatedAt,
    };
}

/// <summary>One entry of the effective configuration: the value, the scope it came from and the store that holds it.</summary>
public sealed record EffectiveValue
{
    public JsonNode? Value { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [OneOf(typeof(ConfigurationScopes))]
    public required string Scope { get; init; }
    [MaxLength(100)]
    public string? ScopeId { get; init; }
    /// <summary>system_config (/api/config), agent_configs (/api/agents/{id}/config) or configurations (/api/configurations).</summary>
    [OneOf("system_config", "agent_configs", "configurations")]
    public required string Source { get; init; }
}
