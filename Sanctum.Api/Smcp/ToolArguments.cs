using System.Text.Json;
using System.Text.Json.Nodes;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Tools;

namespace Sanctum.Api.Smcp;

/// <summary>A tool run's arguments: checked against the tool's input schema before sending, and redacted for the audit log.</summary>
public static class ToolArguments
{
    /// <summary>Errors keyed <c>arguments</c> plus the JSON Pointer of the failing value (<c>arguments/message</c>).</summary>
    public static Errors Check(string inputSchema, JsonElement arguments, Errors errors)
    {
        if (arguments.ValueKind != JsonValueKind.Object) return errors.Add("arguments", "Must be a JSON object of the tool's arguments.");
        var schemaErrors = ToolConfigSchema.Check(inputSchema, arguments, new Errors());
        foreach (var (field, messages) in schemaErrors.ToDictionary())
            foreach (var message in messages)
                errors.Add("arguments" + field["config".Length..], message);
        return errors;
    }

    /// <summary>The arguments as the server gets them.</summary>
    public static Dictionary<string, object?> ToDictionary(JsonElement arguments) =>
        arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

    /// <summary>
    /// The arguments for the audit log: names kept, the value of every secret-looking name (*_key, *_token, *_secret,
    /// *_password, or containing password, secret, token or apikey) replaced by the mask, at any depth; long text cut.
    /// </summary>
    public static JsonNode? Redacted(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => new JsonObject(value.EnumerateObject().Select(p =>
            KeyValuePair.Create(p.Name, SecretLooking(p.Name) ? JsonValue.Create(Secrets.Mask) : Redacted(p.Value)))),
        JsonValueKind.Array => new JsonArray(value.EnumerateArray().Take(50).Select(Redacted).ToArray()),
        JsonValueKind.String when value.GetString() is { Length: > 200 } s => JsonValue.Create(s[..200] + "…"),
        _ => JsonNode.Parse(value.GetRawText()),
    };

    private static readonly string[] SecretWords = ["password", "passwd", "secret", "token", "apikey", "api_key", "credential", "auth"];

    public static bool SecretLooking(string name) =>
        ConfigKeys.IsSecretName(name) || SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));
}
