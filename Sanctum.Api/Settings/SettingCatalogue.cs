using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Settings;

/// <summary>
/// A known setting: its type and constraints, whether it is a secret, and which component reads it. The same key
/// means the same thing in every typed store and scope (system, agent, tool, instance), so one entry checks them all.
/// </summary>
public sealed record SettingSpec
{
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    /// <summary>string, number, boolean or json.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    [MaxLength(ConfigKeys.MaxCategory)]
    [RegularExpression(ConfigKeys.CategoryPattern)]
    public required string Category { get; init; }
    [MaxLength(ConfigKeys.MaxDescription)]
    public required string Description { get; init; }
    public JsonNode? Default { get; init; }
    /// <summary>port (1-65535), duration (whole seconds), url (http or https), path; null for free text or a plain number.</summary>
    [MaxLength(50)]
    public string? Format { get; init; }
    public double? Minimum { get; init; }
    public double? Maximum { get; init; }
    /// <summary>Whole numbers only.</summary>
    public bool Integer { get; init; }
    /// <summary>The closed set of values, when there is one.</summary>
    [MaxLength(100)]
    public string[]? Values { get; init; }
    [MaxLength(50)]
    public string? Unit { get; init; }
    /// <summary>Encrypted at rest and masked in responses (also true of every key named *_key, *_token, *_secret, *_password).</summary>
    public bool Secret { get; init; }
    /// <summary>
    /// The components that read the value. <c>sanctum-api</c> means it takes effect in this service; any other name
    /// means Sanctum only stores it for that component.
    /// </summary>
    [MaxLength(20)]
    public required string[] ReadBy { get; init; }
    /// <summary>What an operator should know about where the value takes effect.</summary>
    [MaxLength(1000)]
    public string? Note { get; init; }
}

/// <summary>The catalogue of known settings, served at GET /api/config/schema; unknown keys stay allowed with the writer's type.</summary>
public static class SettingCatalogue
{
    public const string ThisService = "sanctum-api";

    public static readonly IReadOnlyList<SettingSpec> All =
    [
        Port("api_port", "network", "Port the Sanctum API is published on", 5000, ["start-up scripts"],
            note: "Sanctum.Api itself listens where ASPNETCORE_URLS or --urls say; this value is what scripts and proxies are told."),
        Port("smcp_port", "network", "Port of the SMCP server", 9000, ["smcp"]),
        Url("letta_server_address", "letta", "Address of the Letta server", "https://localhost", ["broca", "smcp"]),
        Port("letta_server_port", "letta", "Port of the Letta server", 443, ["broca", "smcp"]),
        SecretText("letta_server_token", "letta", "Token for the Letta server", ["broca", "smcp"]),
        Duration("letta_connection_timeout", "letta", "Seconds to wait for the Letta server", 30, 1, 3600, ["broca", "smcp", ThisService]),
        Url("letta_server_url", "letta", "Base URL of the Letta server's REST API (without /v1)", "http://localhost:8283", [ThisService],
            note: "Sanctum calls Letta here: POST /api/letta/test, the letta health check, the agents' Letta view."),
        SecretText("letta_server_password", "letta", "The Letta server's password, sent as Authorization: Bearer", [ThisService]),
        SecretText("openai_api_key", "providers", "OpenAI API key", ["letta"]),
        SecretText("anthropic_api_key", "providers", "Anthropic API key", ["letta"]),
        Url("ollama_base_url", "providers", "Base URL of the Ollama server", "http://localhost:11434", ["letta"]),
        Path("sanctum_base_path", "paths", "Sanctum installation directory", "~/sanctum", ["start-up scripts"]),
        Path("letta_data_path", "paths", "Letta data directory", "~/.letta", ["letta"]),
        Duration("session_timeout", "chat", "Seconds before an idle chat session may be cleaned up", 1800, 60, 365 * 24 * 3600, [ThisService]),
        new()
        {
            Key = "max_message_length", Type = "number", Category = "chat", Description = "Longest chat message accepted, in characters",
            Default = 10_000, Minimum = 1, Maximum = 10_000, Integer = true, Unit = "characters", ReadBy = [ThisService],
        },
        SecretText("chat_api_key", "chat", "Bearer key for the chat bridge inbox and outbox", [ThisService, "broca"]),
        SecretText("chat_admin_key", "chat", "Bearer key for the chat bridge admin actions", [ThisService]),
        new()
        {
            Key = "chat_allow_anonymous", Type = "boolean", Category = "chat", Description = "Whether visitors who are not signed in may use the web chat",
            Default = false, ReadBy = [ThisService],
        },
        // The agent chat settings (the chat-settings page writes them per agent).
        Text("primary_model", "chat", "The model the agent answers with", ["letta"]),
        new()
        {
            Key = "temperature", Type = "number", Category = "chat", Description = "Sampling temperature of the agent's model",
            Minimum = 0, Maximum = 2, ReadBy = ["letta"],
        },
        Text("voice", "chat", "The agent's voice", ["letta"]),
        Text("safety_level", "chat", "The agent's safety level", ["letta"]),
        Text("persona", "chat", "The agent's persona", ["letta"]),
    ];

    private static readonly Dictionary<string, SettingSpec> ByKey = All.ToDictionary(s => s.Key, StringComparer.Ordinal);

    public static SettingSpec? Find(string key) => ByKey.GetValueOrDefault(key);

    /// <summary>Null when <paramref name="text"/> (already valid for the spec's type) meets the spec, else why not.</summary>
    public static string? Check(SettingSpec spec, string? text)
    {
        if (text is null) return null;
        if (spec.Type == "number")
        {
            var number = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (spec.Integer && number != Math.Floor(number)) return $"{spec.Key} must be a whole number.";
            if (number < spec.Minimum || number > spec.Maximum)
                return string.Create(CultureInfo.InvariantCulture, $"{spec.Key} must be from {spec.Minimum} to {spec.Maximum}{(spec.Unit is null ? "" : " " + spec.Unit)}.");
        }
        if (spec.Values is { } values && !values.Contains(text)) return $"{spec.Key} must be one of: {string.Join(", ", values)}.";
        if (spec.Format == "url" && !(Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0))
            return $"{spec.Key} must be an http or https URL, such as https://localhost.";
        if (spec.Format == "path" && (text.Length == 0 || text.Any(char.IsControl))) return $"{spec.Key} must be a non-empty path.";
        return null;
    }

    private static SettingSpec Port(string key, string category, string description, int value, string[] readBy, string? note = null) => new()
    {
        Key = key, Type = "number", Category = category, Description = description, Default = value, Format = "port",
        Minimum = 1, Maximum = 65_535, Integer = true, ReadBy = readBy, Note = note,
    };

    private static SettingSpec Duration(string key, string category, string description, int value, int min, int max, string[] readBy) => new()
    {
        Key = key, Type = "number", Category = category, Description = description, Default = value, Format = "duration",
        Minimum = min, Maximum = max, Integer = true, Unit = "seconds", ReadBy = readBy,
    };

    private static SettingSpec Url(string key, string category, string description, string value, string[] readBy, string? note = null) => new()
    {
        Key = key, Type = "string", Category = category, Description = description, Default = value, Format = "url", ReadBy = readBy, Note = note,
    };

    private static SettingSpec Path(string key, string category, string description, string value, string[] readBy) => new()
    {
        Key = key, Type = "string", Category = category, Description = description, Default = value, Format = "path", ReadBy = readBy,
    };

    private static SettingSpec SecretText(string key, string category, string description, string[] readBy) => new()
    {
        Key = key, Type = "string", Category = category, Description = description, Secret = true, ReadBy = readBy,
    };

    private static SettingSpec Text(string key, string category, string description, string[] readBy) => new()
    {
        Key = key, Type = "string", Category = category, Description = description, ReadBy = readBy,
    };
}
