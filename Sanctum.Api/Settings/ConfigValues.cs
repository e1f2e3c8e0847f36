using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Settings;

/// <summary>
/// The four value types of every configuration table (system_config, agent_configs, configurations), and the one parser
/// of stored text: what a write must parse as, what a response shows, and what a reader (the chat bridge, the Letta
/// client) takes from a setting all go through <see cref="TryParse"/>, <see cref="TryNumber"/> and <see cref="TryBoolean"/>.
/// A boolean is "true" or "false" and nothing else: "1", "yes" or "True" are not booleans, so a write of them is refused
/// and a stored one (from an old database) reads as not set.
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
        "number" => TryNumber(value, out _) ? null : "The value must be a number.",
        "boolean" => TryBoolean(value, out _) ? null : "The value must be true or false.",
        "json" => IsJson(value) ? null : "The value must be valid JSON.",
        _ => $"The type must be one of: {string.Join(", ", Types)}.",
    };

    /// <summary>A finite number in invariant culture ("1e3", "-2.5"); nothing else.</summary>
    public static bool TryNumber(string? text, out double number) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);

    /// <summary>"true" or "false", exactly.</summary>
    public static bool TryBoolean(string? text, out bool value)
    {
        value = text == "true";
        return text is "true" or "false";
    }

    /// <summary>
    /// Stored text as JSON of its type: numbers as numbers (whole ones as integers), booleans as true/false, json as its
    /// JSON (null for the text "null"), strings as they are; false when the text is not of its type.
    /// </summary>
    public static bool TryParse(string type, string? text, out JsonNode? value)
    {
        value = null;
        if (text is null) return false;
        switch (type)
        {
            case "string":
                value = JsonValue.Create(text);
                return true;
            case "number" when TryNumber(text, out var number):
                value = number == Math.Floor(number) && Math.Abs(number) < 9e15 ? JsonValue.Create((long)number) : JsonValue.Create(number);
                return true;
            case "boolean" when TryBoolean(text, out var flag):
                value = JsonValue.Create(flag);
                return true;
            case "json":
                // Parsed once: the node shown is the check ("null" is valid JSON and shows as null).
                try
                {
                    value = JsonNode.Parse(text);
                    return true;
                }
                catch (JsonException)
                {
                    return false;
                }
            default:
                return false;
        }
    }

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
