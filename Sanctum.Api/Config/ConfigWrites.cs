using Sanctum.Api.OpenApi;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Sanctum.Api.Config;

/// <summary>The body of PUT /api/agents/{id}/config/{key}.</summary>
public sealed record ConfigValueWrite
{
    /// <summary>A string, number, boolean, object or array; stored as text that must parse as the type. The mask "********" keeps a stored secret.</summary>
    public JsonElement? Value { get; init; }
    /// <summary>string, number, boolean or json; default: the current type, or string for a new key.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public string? Type { get; init; }
    /// <summary>Encrypt the value at rest and mask it in responses; default: as now, or false for a new key. A secret cannot be turned back into plain text.</summary>
    public bool? IsEncrypted { get; init; }
}

/// <summary>The body of PUT /api/config/{key}.</summary>
public sealed record SystemConfigWrite
{
    /// <summary>A string, number, boolean, object or array; stored as text that must parse as the type. The mask "********" keeps a stored secret.</summary>
    public JsonElement? Value { get; init; }
    /// <summary>string, number, boolean or json; default: the current type, or string for a new key.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public string? Type { get; init; }
    /// <summary>Default: the current category, or general for a new key.</summary>
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public string? Category { get; init; }
    /// <summary>Default: the current description.</summary>
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>Encrypt the value at rest and mask it in responses; default: as now, or false for a new key. A secret cannot be turned back into plain text.</summary>
    public bool? IsEncrypted { get; init; }
}

/// <summary>The body of PUT /api/config/env/{name}.</summary>
public sealed record EnvVarWrite
{
    /// <summary>The variable's value (numbers and booleans are stored as their text). The mask "********" keeps a stored secret.</summary>
    public JsonElement? Value { get; init; }
    /// <summary>Default: the current description.</summary>
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>Encrypt the value at rest and mask it in responses; default: as now, or false for a new variable.</summary>
    public bool? IsEncrypted { get; init; }
}

/// <summary>A row of <c>system_config</c> as the API shows it (value masked when encrypted).</summary>
public sealed record ConfigEntry
{
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    [MaxLength(ConfigValues.MaxValueLength)]
    public string? Value { get; init; }
    /// <summary>string, number, boolean or json.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public required string Category { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    public bool IsEncrypted { get; init; }
    public required string UpdatedAt { get; init; }
}

public sealed record ConfigCategory
{
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public required string Category { get; init; }
    public long Count { get; init; }
}

/// <summary>A row of <c>env_vars</c> as the API shows it (value masked when encrypted).</summary>
public sealed record EnvVar
{
    [MaxLength(ConfigKeys.MaxEnvName)]
    [RegularExpression(ConfigKeys.EnvNamePattern)]
    public required string Name { get; init; }
    [MaxLength(ConfigValues.MaxValueLength)]
    public string? Value { get; init; }
    public bool IsEncrypted { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    public required string UpdatedAt { get; init; }
}
