using System.Globalization;
using System.Text.Json;

namespace Sanctum.Api.Settings;

/// <summary>
/// The four value types of every configuration table (system_config, agent_configs, configurations).
/// Values are stored as text; a write must parse as its declared type.
/// </summary>
public static class ConfigValues
{
    public static readonly string[] Types = ["string", "number", "boolean", "json"];

    public const int MaxValueLength = 65_536;

    /// <summary>Null when <paramref name="value"/> is acceptable as <paramref name="type"/>, else why not.</summary>
    public static string? Check(string type, string? value) => type switch
    {
        _ when value is { Length: > MaxValueLength } => $"The value must be at most {MaxValueLength} characters.",
        "string" => null,
        "number" => value is not null && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? null : "The value must be a number.",
        "boolean" => value is "true" or "false" ? null : "The value must be true or false.",
        "json" => IsJson(value) ? null : "The value must be valid JSON.",
        _ => $"The type must be one of: {string.Join(", ", Types)}.",
    };

    /// <summary>
    /// A JSON request value as the stored text: strings as they are, numbers and booleans in their JSON form,
    /// objects and arrays as JSON text. Null stays null.
    /// </summary>
    public static string? ToText(JsonElement? value) => value switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.True } => "true",
        { ValueKind: JsonValueKind.False } => "false",
        { } v => v.GetRawText(),
    };

    public static bool IsJson(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return false;
        try
        {
            using var _ = JsonDocument.Parse(value);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
