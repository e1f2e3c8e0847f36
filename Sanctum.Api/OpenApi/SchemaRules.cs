using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using Sanctum.Api.Infrastructure;

// The served document is OpenAPI 3.0, whose schemas carry one `example`: OpenApiSchema.Example is that keyword
// (Microsoft.OpenApi 2 marks it obsolete in favour of `examples`, which only OpenAPI 3.1 schemas have).
#pragma warning disable CS0618

namespace Sanctum.Api.OpenApi;

/// <summary>
/// Puts the server's rules into the schemas, so a client can check a value before sending it. Type-specific limits
/// are DataAnnotations on the wire types (Swashbuckle reads them) and <see cref="Infrastructure.OneOfAttribute"/>; this filter adds
/// what one wire name means everywhere (<see cref="Vocabulary"/>), the ranges of integers, and the limits of the
/// framework's problem details.
/// </summary>
public sealed class SchemaRules : ISchemaFilter
{
    public const string TimestampPattern = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$";

    /// <summary>Wire names that mean the same thing wherever they appear.</summary>
    private static readonly Dictionary<string, Action<OpenApiSchema>> Vocabulary = new(StringComparer.Ordinal)
    {
        ["created_at"] = Timestamp,
        ["updated_at"] = Timestamp,
        ["last_login"] = Timestamp,
        ["locked_until"] = Timestamp,
        ["last_active"] = Timestamp,
        ["last_run"] = Timestamp,
        ["next_run"] = Timestamp,
        ["expires_at"] = Timestamp,
        ["changed_at"] = Timestamp,
        ["timestamp"] = Timestamp,
        ["at"] = Timestamp,
        ["status_since"] = Timestamp,
        // A status segment's bounds (the only from/to in the API).
        ["from"] = Timestamp,
        ["to"] = Timestamp,
        ["status_source"] = s => s.Enum = Nodes(Health.StatusWriter.Sources),
        ["old_status"] = s => s.Enum = Nodes(Health.HealthStatus.All),
        ["new_status"] = s => s.Enum = Nodes(Health.HealthStatus.All),
        ["status_reason"] = s => Text(s, MaxReason),
        ["reason"] = s => Text(s, MaxReason),
        ["last_check_error"] = s => Text(s, Health.HealthProbe.MaxError),
        ["username"] = s => Text(s, 50, Users.UserRules.UsernamePattern),
        ["agent_id"] = Slug,
        ["tool_id"] = Slug,
        ["session_id"] = s => Text(s, ChatBridge.BridgeInput.MaxSessionIdLength, ChatBridge.BridgeInput.SessionIdPattern),
        ["uid"] = s => Text(s, 16, "^[0-9a-f]{16}$"),
    };

    /// <summary>Why a signal set a status: a short sentence around a probe's error (at most <see cref="Health.HealthProbe.MaxError"/>).</summary>
    public const int MaxReason = 1000;

    public static List<JsonNode> Nodes(IEnumerable<string> values) => values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema s) return;
        if (context.Type == typeof(ProblemDetails) || context.Type == typeof(HttpValidationProblemDetails))
        {
            Problem(s);
            s.Example ??= ProblemExample();
        }
        if (s.Properties is null) return;

        var properties = context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name), StringComparer.Ordinal);
        foreach (var (name, property) in s.Properties.ToList())
        {
            // An object that may be null (JobRun? last_run): a bare $ref would promise an object.
            if (property is OpenApiSchemaReference reference && properties.GetValueOrDefault(name) is { } member
                && new NullabilityInfoContext().Create(member).ReadState == NullabilityState.Nullable)
                s.Properties[name] = new OpenApiSchema
                {
                    AllOf = [reference],
                    Extensions = new Dictionary<string, IOpenApiExtension> { ["nullable"] = new JsonNodeExtension(true) },
                };
            if (property is not OpenApiSchema p) continue;
            if (properties.GetValueOrDefault(name)?.GetCustomAttribute<OneOfAttribute>() is { } oneOf) p.Enum = oneOf.Nodes();
            // [Text] is a [MaxLength] to Swashbuckle; its least length is said here.
            if (properties.GetValueOrDefault(name)?.GetCustomAttribute<Infrastructure.TextAttribute>() is { } text && IsString(p))
                p.MinLength = Math.Max(text.Min, text.NotBlank ? 1 : 0) is > 0 and var least ? least : p.MinLength;
            if (properties.GetValueOrDefault(name)?.GetCustomAttribute<Infrastructure.ListOfAttribute>() is { NotEmpty: true }) p.MinItems = 1;
            if (IsString(p) && p.MaxLength is null && p.Enum is not { Count: > 0 } && p.Pattern is null)
            {
                if (p.Format == "date-time") p.MaxLength = 64;
                else if (properties.GetValueOrDefault(name)?.PropertyType != typeof(string)) { }
                else if (Vocabulary.TryGetValue(name, out var rule)) rule(p);
                // Every other *_at is a moment the server wrote (Data/Timestamp.cs).
                else if (name.EndsWith("_at", StringComparison.Ordinal)) Timestamp(p);
            }
            // Plugin names (the items of a plugin's dependencies) follow the name rule.
            if (name == "dependencies" && p.Items is OpenApiSchema { MaxLength: null } item && IsString(item)) item.MaxLength = Plugins.PluginsApi.MaxNameLength;
            // Lists of short names (a setting's closed set of values, the programs that read it).
            if (name is "values" or "read_by" && p.Items is OpenApiSchema { MaxLength: null } entry && IsString(entry)) entry.MaxLength = 200;
            // A schedule's next runs: moments as the server writes them.
            if (name == "next_runs" && p.Items is OpenApiSchema { MaxLength: null } run && IsString(run)) Timestamp(run);
            // A backup check's findings: sentences naming at most 100 characters of an archive entry.
            if (name == "problems" && p.Items is OpenApiSchema { MaxLength: null } problem && IsString(problem)) problem.MaxLength = 500;
            // A list of short texts: [Items] bounds each (and may close the set).
            if (properties.GetValueOrDefault(name)?.GetCustomAttribute<ItemsAttribute>() is { } items && p.Items is OpenApiSchema listItem && IsString(listItem))
            {
                listItem.MaxLength = items.MaxLength;
                if (items.Values.Length > 0) listItem.Enum = Nodes(items.Values);
            }
            // A map of short texts: [Entries] bounds it.
            if (properties.GetValueOrDefault(name)?.GetCustomAttribute<EntriesAttribute>() is { } entries)
            {
                p.MaxProperties = entries.MaxCount;
                if (p.AdditionalProperties is OpenApiSchema value && IsString(value)) value.MaxLength = entries.MaxValueLength;
            }
            Integers(p, IsId(name));
            // A map reads as data, not as Swagger UI's additionalProp1..3.
            if (p.AdditionalProperties is not null && p.Example is null && MapExamples.TryGetValue(name, out var example)) p.Example = example();
        }
    }

    /// <summary>Examples of the maps in answers, by wire name.</summary>
    private static readonly Dictionary<string, Func<JsonNode>> MapExamples = new(StringComparer.Ordinal)
    {
        ["by_status"] = () => new JsonObject { ["Healthy"] = 5, ["Ready"] = 2, ["Degraded"] = 0, ["Off"] = 0 },
        ["rate_limits"] = () => new JsonObject { ["messages"] = 30, ["inbox"] = 120, ["outbox"] = 240, ["responses"] = 120, ["sessions"] = 60 },
        ["errors"] = () => new JsonObject { ["name"] = new JsonArray("A name is required.") },
        ["settings"] = () => new JsonObject { ["welcome_text"] = "Hello! Ask me anything." },
        ["details"] = () => new JsonObject { ["key"] = "letta_server_port", ["created"] = false },
    };

    /// <summary>The problem details this server writes, as Swagger UI should show them.</summary>
    private static JsonNode ProblemExample() => new JsonObject
    {
        ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1", ["title"] = "One or more validation errors occurred.", ["status"] = 400,
        ["errors"] = new JsonObject { ["name"] = new JsonArray("A name is required.") },
    };

    /// <summary>No integer in this API is negative; ids start at 1. Explicit ranges ([Range]) stay.</summary>
    public static void Integers(IOpenApiSchema? schema, bool id = false)
    {
        if (schema is not OpenApiSchema s) return;
        if (s.Type is { } type && type.HasFlag(JsonSchemaType.Integer))
        {
            s.Minimum ??= id ? "1" : "0";
            s.Maximum ??= s.Format == "int32" ? int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Swagger UI shows a sample it makes up from the range unless there is an example: ids read 1, counts their least.
            s.Example ??= JsonValue.Create(id ? 1 : long.Parse(s.Minimum, System.Globalization.CultureInfo.InvariantCulture));
        }
        Integers(s.AdditionalProperties);
        Integers(s.Items, id);
    }

    public static bool IsId(string name) => name is "id" or "created_by" || name.EndsWith("_id", StringComparison.Ordinal);

    public static bool IsString(OpenApiSchema s) => s.Type is { } type && type.HasFlag(JsonSchemaType.String);

    public static void Text(OpenApiSchema s, int maxLength, string? pattern = null)
    {
        s.MaxLength = maxLength;
        s.Pattern ??= pattern;
    }

    public static void Slug(OpenApiSchema s) => Text(s, 50, Infrastructure.FieldChecks.SlugPattern);

    /// <summary>The schema's one timestamp form (Data/Timestamp.cs): ISO-8601 UTC with whole seconds.</summary>
    public static void Timestamp(OpenApiSchema s)
    {
        s.Format = "date-time";
        Text(s, 20, TimestampPattern);
    }

    /// <summary>RFC 9457 problem details as this server writes them.</summary>
    private static void Problem(OpenApiSchema s)
    {
        if (s.Properties is null) return;
        foreach (var (name, property) in s.Properties)
        {
            if (property is not OpenApiSchema p) continue;
            switch (name)
            {
                case "type": p.Format = "uri-reference"; p.MaxLength = 200; break;
                case "title": p.MaxLength = 200; break;
                case "detail": p.MaxLength = Infrastructure.FieldChecks.MaxText; break;
                case "instance": p.Format = "uri-reference"; p.MaxLength = 2048; break;
                case "status": p.Minimum = "100"; p.Maximum = "599"; break;
                case "errors" when p.AdditionalProperties is OpenApiSchema { Items: OpenApiSchema message } list:
                    // One entry per field, a few messages each (one per dependency at most, of up to 100).
                    p.MaxProperties = 100;
                    list.MaxItems = 100;
                    message.MaxLength = 1000;
                    break;
            }
        }
    }
}
