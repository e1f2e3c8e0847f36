using System.Text;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>One operation of the served OpenAPI document, with what its parameters and body look like and the statuses it documents.</summary>
public sealed record ApiOperation(
    string Method, string Template, string OperationId, List<ApiParameter> Path, List<ApiParameter> Query, JsonObject? Body, HashSet<int> Documented)
{
    public override string ToString() => $"{Method} {Template}";

    /// <summary>Every operation of an OpenAPI 3.0 document (the JSON form), $refs resolved.</summary>
    public static List<ApiOperation> Read(JsonElement document)
    {
        var root = JsonNode.Parse(document.GetRawText())!.AsObject();
        var operations = new List<ApiOperation>();
        foreach (var (template, item) in root["paths"]!.AsObject())
        {
            foreach (var (method, operationNode) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description") continue;
                var operation = operationNode!.AsObject();
                var parameters = (operation["parameters"]?.AsArray() ?? []).Select(p => Resolve(root, p!)).ToList();
                ApiParameter Parameter(JsonObject p) => new(p["name"]!.GetValue<string>(), Resolve(root, p["schema"] ?? new JsonObject()), p["required"]?.GetValue<bool>() == true);
                var body = operation["requestBody"] is { } requestBody
                    ? Resolve(root, requestBody)["content"]?["application/json"]?["schema"] is { } schema ? Resolve(root, schema) : new JsonObject()
                    : null;
                operations.Add(new ApiOperation(
                    method.ToUpperInvariant(), template,
                    operation["operationId"]?.GetValue<string>() ?? $"{method} {template}",
                    parameters.Where(p => p["in"]?.GetValue<string>() == "path").Select(Parameter).ToList(),
                    parameters.Where(p => p["in"]?.GetValue<string>() == "query").Select(Parameter).ToList(),
                    body,
                    operation["responses"]!.AsObject().Select(r => int.Parse(r.Key, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet()));
            }
        }
        return operations;
    }

    // Inlines $refs, except the self-referencing JSON-node types, which stand for "any JSON value".
    private static JsonObject Resolve(JsonObject root, JsonNode node, int depth = 0)
    {
        var obj = node.AsObject();
        if (obj["$ref"]?.GetValue<string>() is { } reference)
        {
            var name = reference.Split('/')[^1];
            if (name.StartsWith("JsonNode", StringComparison.Ordinal) || name.StartsWith("JsonElement", StringComparison.Ordinal) || depth > 4)
                return new JsonObject { ["x-any"] = true };
            var target = reference.TrimStart('#', '/').Split('/').Aggregate((JsonNode)root, (n, part) => n[part]!);
            return Resolve(root, target, depth + 1);
        }
        var copy = obj.DeepClone().AsObject();
        if (copy["properties"] is JsonObject properties)
            foreach (var name in properties.Select(p => p.Key).ToList())
                properties[name] = Resolve(root, obj["properties"]![name]!, depth + 1);
        if (obj["items"] is { } items) copy["items"] = Resolve(root, items, depth + 1);
        if (obj["allOf"] is JsonArray { Count: 1 } allOf) return Resolve(root, allOf[0]!, depth + 1);
        return copy;
    }
}

public sealed record ApiParameter(string Name, JsonObject Schema, bool Required)
{
    public string Type => Schema["type"]?.GetValue<string>() ?? (Schema["x-any"] is not null ? "any" : "string");
}

/// <summary>A request to send: what it tests, where, and the body with its content type.</summary>
public sealed record BadRequest(string What, string Path, HttpContent? Content)
{
    public override string ToString() => $"{What}: {(Path.Length > 160 ? Path[..160] + $"…({Path.Length})" : Path)}";
}

/// <summary>
/// Generates, for one operation, requests that are wrong in every way a client can make them wrong: path, query and
/// body values of the wrong type, missing and extra fields, empty, ~100 KB and (full run) > 1 MiB strings, unicode
/// and control characters, SQL and path-traversal text, malformed JSON and wrong content types. Each request also
/// starts from a plausible value for everything else, so it reaches the handler's own validation.
/// </summary>
public static class BadRequests
{
    public const int Large = 100_000;
    public const int Huge = 1024 * 1024 + 1024;

    /// <summary>Strings every text field, path segment and query value gets.</summary>
    public static IEnumerable<(string What, string Value)> HostileStrings(bool full)
    {
        yield return ("empty", "");
        yield return ("blank", "   ");
        yield return ("sql", "' OR '1'='1'; DROP TABLE users; --");
        yield return ("sql-like", "%_\\%");
        yield return ("traversal", "../../../../etc/passwd");
        yield return ("unicode", "Zoë 😀 ⚙️ 𝒳 \u202eevil \u0301");
        yield return ("control", "a\u0000b\u0001c\u001f\u007f\r\n\t");
        yield return ("lone-surrogate", "x\ud800y");
        yield return ("large", new string('a', Large));
        yield return ("large-unicode", string.Concat(Enumerable.Repeat("😀", Large / 4)));
        if (full) yield return ("huge", new string('b', Huge));
    }

    public static IEnumerable<BadRequest> For(ApiOperation op, bool full)
    {
        var pathValues = op.Path.ToDictionary(p => p.Name, Plausible);
        string PathWith(string? name = null, string? raw = null, bool escape = true) =>
            op.Path.Aggregate(op.Template, (t, p) => t.Replace("{" + p.Name + "}",
                p.Name == name ? (escape ? Uri.EscapeDataString(raw!) : raw!) : Uri.EscapeDataString(pathValues[p.Name])));
        var query = string.Join("&", op.Query.Where(q => q.Required).Select(q => $"{q.Name}={Uri.EscapeDataString(Plausible(q))}"));
        string WithQuery(string path, string? extra = null)
        {
            var all = string.Join("&", new[] { query, extra }.Where(s => !string.IsNullOrEmpty(s)));
            return all.Length == 0 ? path : path + "?" + all;
        }
        var basePath = WithQuery(PathWith());
        var sample = op.Body is null ? null : SampleObject(op.Body);
        HttpContent? SampleContent() => sample is null ? null : Json(sample.ToJsonString());

        // The plausible request itself.
        yield return new("plausible", basePath, SampleContent());

        // Path parameters.
        foreach (var p in op.Path)
        {
            foreach (var (what, value) in HostileStrings(full).Concat(WrongTypeText(p.Type)))
                yield return new($"path {p.Name} {what}", WithQuery(PathWith(p.Name, value)), SampleContent());
            yield return new($"path {p.Name} raw traversal", WithQuery(PathWith(p.Name, "../../etc/passwd", escape: false)), SampleContent());
            yield return new($"path {p.Name} encoded slash", WithQuery(PathWith(p.Name, "a%2Fb", escape: false)), SampleContent());
        }

        // Query parameters, one at a time, plus unknown and repeated ones.
        foreach (var q in op.Query)
        {
            foreach (var (what, value) in HostileStrings(full).Where(s => s.Value.Length < Huge).Concat(WrongTypeText(q.Type)))
                yield return new($"query {q.Name} {what}", WithQuery(PathWith(), $"{q.Name}={Uri.EscapeDataString(value)}"), SampleContent());
            yield return new($"query {q.Name} repeated", WithQuery(PathWith(), $"{q.Name}=1&{q.Name}=2"), SampleContent());
            yield return new($"query {q.Name} no value", WithQuery(PathWith(), q.Name), SampleContent());
        }
        yield return new("query unknown", WithQuery(PathWith(), "unknown=%27%3B--&limit=-1&offset=-1"), SampleContent());

        // Body: field by field, then the body as a whole.
        if (op.Body is { } schema && sample is not null)
        {
            var properties = schema["properties"]?.AsObject().Select(p => (p.Key, Schema: p.Value!.AsObject())).ToList() ?? [];
            foreach (var (name, propertySchema) in properties)
            {
                yield return new($"body without {name}", basePath, Json(Without(sample, name)));
                yield return new($"body {name} null", basePath, Json(With(sample, name, null)));
                foreach (var (what, value) in WrongTypeJson(TypeOf(propertySchema)))
                    yield return new($"body {name} {what}", basePath, Json(With(sample, name, value)));
                foreach (var (what, value) in HostileStrings(full))
                    yield return new($"body {name} {what}", basePath, Json(With(sample, name, JsonValue.Create(value))));
            }
            var extra = sample.DeepClone().AsObject();
            extra["unexpected"] = "field";
            extra["id"] = 987654;
            extra["password_hash"] = "$2a$04$notahash";
            extra["role"] = "admin";
            extra["created_at"] = "1999-01-01T00:00:00Z";
            yield return new("body extra fields", basePath, Json(extra.ToJsonString()));
            yield return new("body empty object", basePath, Json("{}"));
            yield return new("body with duplicate keys", basePath, Json(DuplicateFirstKey(sample)));
        }
        if (op.Method is "POST" or "PUT" or "PATCH" || op.Body is not null)
        {
            foreach (var (what, text) in MalformedJson(full)) yield return new($"body {what}", basePath, Json(text));
            yield return new("body invalid utf-8", basePath, new ByteArrayContent([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'])
            { Headers = { ContentType = new("application/json") } });
            if (sample is { Count: > 0 })
                yield return new("body invalid utf-8 in every string value", basePath, InvalidUtf8Values(sample));
            yield return new("body missing", basePath, null);
            var raw = sample?.ToJsonString() ?? "{}";
            foreach (var type in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/jsonx" })
                yield return new($"content type {type}", basePath, new StringContent(raw, Encoding.UTF8) { Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type) } });
            yield return new("no content type", basePath, new ByteArrayContent(Encoding.UTF8.GetBytes(raw)));
        }
        else
        {
            // Reads must ignore a body they do not expect.
            yield return new("unexpected body", basePath, Json("{\"a\":"));
        }
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    // The sample with every string value (and every other value, for bodies without strings) made of bytes that are not UTF-8.
    private static ByteArrayContent InvalidUtf8Values(JsonObject sample)
    {
        const string marker = "@@not-utf8@@";
        var copy = sample.DeepClone().AsObject();
        var strings = copy.Where(p => p.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String).Select(p => p.Key).ToList();
        foreach (var key in strings.Count > 0 ? strings : copy.Select(p => p.Key).ToList()) copy[key] = marker;
        var bytes = Encoding.UTF8.GetBytes(copy.ToJsonString()).AsSpan();
        var output = new List<byte>();
        var needle = Encoding.UTF8.GetBytes(marker);
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i..].StartsWith(needle)) { output.AddRange([0xC3, 0x28, 0xFF, 0xFE]); i += needle.Length - 1; }
            else output.Add(bytes[i]);
        }
        return new ByteArrayContent(output.ToArray()) { Headers = { ContentType = new("application/json") } };
    }

    private static IEnumerable<(string, string)> MalformedJson(bool full)
    {
        yield return ("empty", "");
        yield return ("truncated", "{\"a\":");
        yield return ("unclosed", "{");
        yield return ("trailing", "{}}");
        yield return ("bare word", "nul");
        yield return ("null", "null");
        yield return ("number", "123");
        yield return ("string", "\"text\"");
        yield return ("array", "[1,2,3]");
        yield return ("true", "true");
        yield return ("single quotes", "{'a':1}");
        yield return ("comment", "{/* c */}");
        yield return ("nul byte", "{\"a\":\"\u0000\"}\u0000");
        yield return ("deep nesting", new string('[', 5000) + new string(']', 5000));
        yield return ("deep object nesting", string.Concat(Enumerable.Repeat("{\"a\":", 2000)) + "1" + new string('}', 2000));
        yield return ("large", "{\"a\":\"" + new string('x', Large) + "\"}");
        if (full) yield return ("over 1 MiB", "{\"a\":\"" + new string('x', Huge) + "\"}");
    }

    private static IEnumerable<(string, string)> WrongTypeText(string type) => type switch
    {
        "integer" or "number" => [("not a number", "abc"), ("fraction", "1.5"), ("negative", "-1"), ("zero", "0"), ("past int64", "99999999999999999999"), ("exponent", "1e309"), ("past int32", "2147483648"), ("limit+1", "201")],
        "boolean" => [("not a boolean", "yes"), ("number", "1"), ("upper", "TRUE")],
        _ => [("number", "123"), ("negative", "-1"), ("past int64", "99999999999999999999")],
    };

    private static IEnumerable<(string, JsonNode?)> WrongTypeJson(string type)
    {
        if (type != "string") yield return ("as string", JsonValue.Create("text"));
        if (type is not "integer" and not "number") yield return ("as number", JsonValue.Create(123));
        if (type != "boolean") yield return ("as boolean", JsonValue.Create(true));
        if (type != "object") yield return ("as object", new JsonObject { ["a"] = 1 });
        if (type != "array") yield return ("as array", new JsonArray(1, "two"));
        yield return ("as float", JsonValue.Create(1.5));
        yield return ("as huge number", JsonNode.Parse("1e400"));
        yield return ("as past int64", JsonNode.Parse("99999999999999999999"));
        yield return ("as negative", JsonValue.Create(-1));
    }

    private static string TypeOf(JsonObject schema) => schema["type"]?.GetValue<string>() ?? (schema["x-any"] is not null ? "any" : "object");

    public static JsonObject SampleObject(JsonObject schema) => Sample(schema, "body") as JsonObject ?? new JsonObject();

    /// <summary>A plausible value for a schema: one that passes type checks and, as far as names tell, validation.</summary>
    private static JsonNode? Sample(JsonObject schema, string name, int depth = 0)
    {
        if (schema["enum"] is JsonArray { Count: > 0 } values) return values[0]!.DeepClone();
        switch (TypeOf(schema))
        {
            case "integer": return JsonValue.Create(name.Contains("port") ? 8080 : 1);
            case "number": return JsonValue.Create(1);
            case "boolean": return JsonValue.Create(false);
            case "array": return depth > 3 || schema["items"] is not JsonObject items ? new JsonArray() : new JsonArray(Sample(items, name, depth + 1));
            case "any": return JsonValue.Create("1");
            case "object":
                var obj = new JsonObject();
                if (schema["properties"] is JsonObject properties && depth <= 3)
                    foreach (var (key, value) in properties) obj[key] = Sample(value!.AsObject(), key, depth + 1);
                return obj;
            default: return JsonValue.Create(PlausibleText(name));
        }
    }

    private static string Plausible(ApiParameter p) => p.Type switch
    {
        "integer" or "number" => "1",
        "boolean" => "true",
        _ => PlausibleText(p.Name),
    };

    private static string PlausibleText(string name) => name switch
    {
        _ when name.Contains("email") => "sweep@example.test",
        _ when name.Contains("password") => "sweep-password-1",
        _ when name.Contains("username") => "sweep_user",
        _ when name == "role" => "user",
        _ when name == "status" => "Healthy",
        _ when name.Contains("type") => "string",
        _ when name == "category" => "master",
        _ when name == "scope" => "system",
        _ when name.Contains("path") => "/sweep",
        _ when name.Contains("url") => "http://localhost/sweep",
        _ when name.Contains("agent") => "athena",
        _ when name.Contains("tool") => "system-settings",
        _ when name.EndsWith("name") => "SWEEP_NAME",
        _ when name == "key" => "sweep_key",
        _ when name == "id" => "sweep-id",
        _ => "sweep",
    };

    private static string Without(JsonObject sample, string name)
    {
        var copy = sample.DeepClone().AsObject();
        copy.Remove(name);
        return copy.ToJsonString();
    }

    private static string With(JsonObject sample, string name, JsonNode? value)
    {
        var copy = sample.DeepClone().AsObject();
        copy[name] = value?.DeepClone();
        return copy.ToJsonString();
    }

    private static string DuplicateFirstKey(JsonObject sample)
    {
        var text = sample.ToJsonString();
        if (sample.Count == 0) return "{\"a\":1,\"a\":2}";
        var first = sample.First();
        return "{" + JsonSerializer.Serialize(first.Key) + ":123," + text[1..];
    }
}
