using System.Globalization;
using System.Text.Json;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Broca;

/// <summary>
/// The typed settings Broca reads from settings.json and their .env overrides: message_mode (echo, listen, live),
/// queue_refresh (seconds, 1-3600), max_retries (0-100), debug_mode (boolean). Other keys are kept as they are.
/// </summary>
public static class BrocaSettingRules
{
    public static readonly string[] MessageModes = ["echo", "listen", "live"];
    public const int MinRefresh = 1, MaxRefresh = 3600, MinRetries = 0, MaxRetries = 100;
    public const int MaxEnvValue = 10_000;

    /// <summary>Why a settings.json value is not acceptable, or null.</summary>
    public static string? JsonProblem(string key, JsonElement value) => key switch
    {
        "message_mode" => value.ValueKind == JsonValueKind.String && MessageModes.Contains(value.GetString()) ? null : ModeText,
        "queue_refresh" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var r) && r is >= MinRefresh and <= MaxRefresh ? null : RefreshText,
        "max_retries" => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var m) && m is >= MinRetries and <= MaxRetries ? null : RetriesText,
        "debug_mode" => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "Must be true or false.",
        _ => null,
    };

    /// <summary>Why a .env value is not acceptable, or null; an empty value leaves Broca's default.</summary>
    public static string? EnvProblem(string name, string value)
    {
        if (value.Length > MaxEnvValue) return $"Must be at most {MaxEnvValue} characters.";
        if (value.Contains('\n') || value.Contains('\r') || value.Contains('\0')) return "Must be one line.";
        if (value.Length == 0) return null;
        return name switch
        {
            "MESSAGE_MODE" => MessageModes.Contains(value) ? null : ModeText,
            "QUEUE_REFRESH" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r is >= MinRefresh and <= MaxRefresh ? null : RefreshText,
            "MAX_RETRIES" => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m is >= MinRetries and <= MaxRetries ? null : RetriesText,
            "DEBUG_MODE" => value is "true" or "false" or "True" or "False" ? null : "Must be true or false.",
            _ => null,
        };
    }

    /// <summary>Secret .env names: the settings' secret suffixes (*_KEY, *_TOKEN, *_SECRET, *_PASSWORD) and *_HASH.</summary>
    public static bool IsSecret(string name) => ConfigKeys.IsSecretName(name) || name.EndsWith("_HASH", StringComparison.OrdinalIgnoreCase);

    /// <summary>The history type of a JSON value.</summary>
    public static string TypeOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.String => "string",
        _ => "json",
    };

    private static readonly string ModeText = $"Must be one of: {string.Join(", ", MessageModes)}.";
    private static readonly string RefreshText = $"Must be a whole number of seconds from {MinRefresh} to {MaxRefresh}.";
    private static readonly string RetriesText = $"Must be a whole number from {MinRetries} to {MaxRetries}.";
}
