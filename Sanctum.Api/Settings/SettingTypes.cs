using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>
/// The body of every settings PUT (/api/config/{key}, /api/config/env/{name}, /api/agents/{id}/config/{key},
/// /api/configurations/...). Fields a store does not keep (a category outside system settings, a description on agent
/// settings, a type on environment variables) are refused rather than ignored.
/// </summary>
public sealed record SettingWrite
{
    /// <summary>
    /// A string, number, boolean, object or array; stored as text that must parse as the type and meet the catalogue
    /// (GET /api/config/schema) for a known key. Sending the mask "********" back keeps a stored secret.
    /// </summary>
    public JsonElement? Value { get; init; }
    /// <summary>string, number, boolean or json; default: a known key's type, else the current type, else what the value is.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public string? Type { get; init; }
    /// <summary>System settings only. Default: the current category, a known key's, or general.</summary>
    [Text(ConfigKeys.MaxCategory), Pattern(ConfigKeys.CategoryPattern, "Must be 1 to 50 letters, digits, '_' or '-'.")]
    public string? Category { get; init; }
    /// <summary>Default: the current description; "" removes it. Not kept for agent settings.</summary>
    [Text(ConfigKeys.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>
    /// Encrypt at rest and mask in responses; default: as now, or false for a new key. Keys named *_key, *_token,
    /// *_secret or *_password are always encrypted. A secret cannot be turned back into plain text.
    /// </summary>
    public bool? IsEncrypted { get; init; }
}

/// <summary>The body of POST .../{key}/rollback.</summary>
public sealed record SettingRollback
{
    /// <summary>The version (from .../history) whose value to restore; 0 for the value before the first recorded change.</summary>
    public long? Version { get; init; }
}

/// <summary>A row of any of the four stores in one shape, its value as stored (ciphertext for a secret).</summary>
public sealed record StoredSetting
{
    public long Id { get; init; }
    public required string Key { get; init; }
    public string? Value { get; init; }
    public required string Type { get; init; }
    public string? Category { get; init; }
    public string? Description { get; init; }
    public bool IsEncrypted { get; init; }
    public long? CreatedBy { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
    public required string Scope { get; init; }
    public string? ScopeId { get; init; }
    /// <summary>The latest recorded change (0 before any); the ETag is this number in quotes.</summary>
    public long Version { get; init; }

    /// <summary>Masked in responses: encrypted, or named like a secret even if some older write stored it in plain text.</summary>
    public bool IsSecret => Secret(Key, IsEncrypted);

    /// <summary>A setting is a secret when it is stored encrypted or its name says so (*_key, *_token, ...).</summary>
    public static bool Secret(string key, bool encrypted) => encrypted || ConfigKeys.IsSecretName(key);

    public string ETag => $"\"{Version}\"";
}

/// <summary>One recorded change of a setting. A secret's values are never shown: they read "changed".</summary>
public sealed record SettingChange
{
    /// <summary>The key changed, in a history of several keys (an agent's Broca files); absent in one setting's own history.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    [System.ComponentModel.DataAnnotations.MaxLength(100)]
    public string? Key { get; init; }
    public long Version { get; init; }
    /// <summary>set, delete or rollback.</summary>
    [OneOf("set", "delete", "rollback")]
    public required string Action { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    public bool IsEncrypted { get; init; }
    public JsonNode? OldValue { get; init; }
    public JsonNode? NewValue { get; init; }
    /// <summary>The username, or chat-bridge / system for changes the service made itself.</summary>
    [MaxLength(50)]
    public required string ChangedBy { get; init; }
    public required string ChangedAt { get; init; }
}

/// <summary>What the core did with a request, turned into an HTTP answer by <see cref="SettingResults"/>.</summary>
public sealed record SettingOutcome
{
    public required int Status { get; init; }
    public StoredSetting? Setting { get; init; }
    public IReadOnlyList<SettingChange>? Changes { get; init; }
    public Errors? Errors { get; init; }
    public string? Detail { get; init; }
    public string? Location { get; init; }

    public bool Succeeded => Status < 300;

    public static SettingOutcome Invalid(Errors errors) => new() { Status = StatusCodes.Status400BadRequest, Errors = errors };
    public static SettingOutcome Invalid(string field, string message) => Invalid(new Errors().Add(field, message));
    public static SettingOutcome NotFound(string what) => new() { Status = StatusCodes.Status404NotFound, Detail = what };
    public static SettingOutcome Conflict(string detail) => new() { Status = StatusCodes.Status409Conflict, Detail = detail };
    public static SettingOutcome RevealForbidden { get; } =
        new() { Status = StatusCodes.Status403Forbidden, Detail = "Only an admin may reveal a secret value." };
}
