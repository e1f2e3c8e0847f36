using Sanctum.Api.Config;
using Sanctum.Api.OpenApi;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Sanctum.Api.Configurations;

/// <summary>A row of <c>configurations</c> as the API shows it: encrypted values masked unless an admin reveals them.</summary>
public sealed record Configuration
{
    public const string Columns = "id, key, value, type, scope, scope_id, description, is_encrypted, created_by, created_at, updated_at";

    public long Id { get; init; }
    [MaxLength(ConfigurationScopes.MaxKeyLength)]
    [RegularExpression(ConfigurationScopes.KeyPattern)]
    public required string Key { get; init; }
    [MaxLength(ConfigValues.MaxValueLength)]
    public string? Value { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [OneOf(typeof(ConfigurationScopes))]
    public required string Scope { get; init; }
    /// <summary>The agent id, tool id, tool instance id or user id the value belongs to; null for system.</summary>
    [MaxLength(100)]
    public string? ScopeId { get; init; }
    [MaxLength(ConfigurationsApi.MaxDescriptionLength)]
    public string? Description { get; init; }
    public bool IsEncrypted { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

/// <summary>The body of a PUT: the value, and optionally its type, description and whether to encrypt it.</summary>
public sealed record ConfigurationRequest
{
    /// <summary>A string, number, boolean or JSON value; stored as text and checked against the type.</summary>
    public JsonElement? Value { get; init; }
    /// <summary>string, number, boolean or json; when absent the existing type, else inferred from the value.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public string? Type { get; init; }
    [MaxLength(ConfigurationsApi.MaxDescriptionLength)]
    public string? Description { get; init; }
    public bool? IsEncrypted { get; init; }
}

/// <summary>One entry of the effective configuration and the scope it came from.</summary>
public sealed record EffectiveValue
{
    [MaxLength(ConfigValues.MaxValueLength)]
    public string? Value { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [OneOf(typeof(ConfigurationScopes))]
    public required string Scope { get; init; }
    [MaxLength(100)]
    public string? ScopeId { get; init; }
}
