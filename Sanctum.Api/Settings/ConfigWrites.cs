using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Settings;

/// <summary>A row of <c>system_config</c> as the API shows it: the value in its type, a secret's masked.</summary>
public sealed record ConfigEntry
{
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    public JsonNode? Value { get; init; }
    /// <summary>string, number, boolean or json.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public required string Category { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    public bool IsEncrypted { get; init; }
    /// <summary>The latest recorded change (0 before any): send it back as If-Match: "version" to refuse stale writes.</summary>
    public long Version { get; init; }
    public required string UpdatedAt { get; init; }

    public static ConfigEntry Of(StoredSetting row, JsonNode? value) => new()
    {
        Key = row.Key, Value = value, Type = row.Type, Category = row.Category ?? "general", Description = row.Description,
        IsEncrypted = row.IsEncrypted, Version = row.Version, UpdatedAt = row.UpdatedAt,
    };
}

public sealed record ConfigCategory
{
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public required string Category { get; init; }
    public long Count { get; init; }
}

/// <summary>A row of <c>env_vars</c> as the API shows it (value masked when secret).</summary>
public sealed record EnvVar
{
    [MaxLength(ConfigKeys.MaxEnvName)]
    [RegularExpression(ConfigKeys.EnvNamePattern)]
    public required string Name { get; init; }
    public JsonNode? Value { get; init; }
    public bool IsEncrypted { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>The latest recorded change (0 before any), as in the ETag.</summary>
    public long Version { get; init; }
    public required string UpdatedAt { get; init; }

    public static EnvVar Of(StoredSetting row, JsonNode? value) => new()
    {
        Name = row.Key, Value = value, IsEncrypted = row.IsEncrypted, Description = row.Description, Version = row.Version, UpdatedAt = row.UpdatedAt,
    };
}
