using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Broca;

/// <summary>
/// An agent's Broca settings.json and .env, read and written as files: typed checks on the keys Broca knows, unknown
/// keys and lines kept, atomic replacement, ETag / If-Match (412 also when the file changed on disk), secrets of .env
/// masked, every change in the setting history (stores broca_settings and broca_env) and the audit log.
/// </summary>
public static class BrocaFilesApi
{
    public const string SettingsStore = "broca_settings", EnvStore = "broca_env";
    public const int MaxKey = 100, MaxHistory = 200;

    public static void MapBrocaFiles(this RouteGroupBuilder group)
    {
        group.MapGet("/settings", GetSettings).WithName("GetBrocaSettings")
            .WithSummary("The agent's Broca settings.json as its JSON object, with its ETag").Produces<BrocaSettingsDocument>().BrocaProblems();
        group.MapPut("/settings", (string id, BrocaSettingsDocument body, BrocaFileServices s) => WriteSettings(id, body, replace: true, s))
            .WithName("ReplaceBrocaSettings").RequireAdmin()
            .WithSummary("Replace settings.json (admin): message_mode echo|listen|live, queue_refresh 1-3600, max_retries 0-100, debug_mode boolean; other keys kept as sent; If-Match 412")
            .Produces<BrocaSettingsDocument>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status412PreconditionFailed).BrocaProblems();
        group.MapPatch("/settings", (string id, BrocaSettingsDocument body, BrocaFileServices s) => WriteSettings(id, body, replace: false, s))
            .WithName("UpdateBrocaSettings").RequireAdmin()
            .WithSummary("Merge the keys sent into settings.json (admin; null removes a key); the other keys stay; If-Match 412")
            .Produces<BrocaSettingsDocument>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status412PreconditionFailed).BrocaProblems();

        group.MapGet("/env", GetEnv).WithName("GetBrocaEnv")
            .WithSummary("The agent's Broca .env variables; *_KEY, *_TOKEN, *_SECRET, *_HASH, *_PASSWORD masked unless an admin asks reveal=true (recorded)")
            .Produces<BrocaEnvDocument>().ProducesProblem(StatusCodes.Status403Forbidden).BrocaProblems();
        group.MapPut("/env", (string id, BrocaEnvDocument body, BrocaFileServices s) => WriteEnv(id, body, replace: true, s))
            .WithName("ReplaceBrocaEnv").RequireAdmin()
            .WithSummary("Set the .env variables to those sent (admin): others are removed, comments and unknown lines kept; the mask keeps a secret; If-Match 412")
            .Produces<BrocaEnvDocument>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status412PreconditionFailed).BrocaProblems();
        group.MapPatch("/env", (string id, BrocaEnvDocument body, BrocaFileServices s) => WriteEnv(id, body, replace: false, s))
            .WithName("UpdateBrocaEnv").RequireAdmin()
            .WithSummary("Set the .env variables sent (admin; null removes one); the rest of the file stays as it is; If-Match 412")
            .Produces<BrocaEnvDocument>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status412PreconditionFailed).BrocaProblems();

        group.MapGet("/history", History).WithName("GetBrocaSettingsHistory").RequireAdmin()
            .WithSummary("Recorded changes to the agent's settings.json (file=settings) or .env (file=env), newest first (admin); secrets read 'changed'")
            .Produces<List<SettingChange>>().ProducesValidationProblem().BrocaProblems().WithMetadata(new Infrastructure.PageLimit(MaxHistory));
    }

    /// <summary>The problems every Broca operation can answer: no such agent, no Broca (409), Broca busy (503).</summary>
    public static RouteHandlerBuilder BrocaProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    private static readonly JsonSerializerOptions FileJson = new()
    {
        WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static Task<IResult> GetSettings(string id, BrocaFileServices s) =>
        BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            var bytes = await InstanceFolder.ReadAsync(home.File(BrocaHome.SettingsFile), s.Http.RequestAborted);
            if (ParseSettings(bytes, home) is not { } settings) return NotAnObject(home);
            s.Http.Response.Headers.ETag = InstanceFolder.ETagOf(bytes);
            return TypedResults.Json(settings);
        });

    private static Task<IResult> WriteSettings(string id, BrocaSettingsDocument body, bool replace, BrocaFileServices s)
    {
        var errors = new Errors();
        foreach (var (key, value) in body)
        {
            if (key.Length is 0 or > MaxKey) errors.Add(key, $"A key is 1 to {MaxKey} characters.");
            else if (value.ValueKind == JsonValueKind.Null) { if (replace) errors.Add(key, "A key of a replaced file needs a value; leave the key out to drop it."); }
            else if (BrocaSettingRules.JsonProblem(key, value) is { } problem) errors.Add(key, problem);
        }
        if (errors.Any) return Task.FromResult<IResult>(Problems.Invalid(errors));

        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, home => Locked(home.File(BrocaHome.SettingsFile), async path =>
        {
            var bytes = await InstanceFolder.ReadAsync(path, s.Http.RequestAborted);
            if (!BrocaResults.Matches(s.Http, InstanceFolder.ETagOf(bytes))) return BrocaResults.PreconditionFailed($"Broca's {BrocaHome.SettingsFile}");
            if (ParseSettings(bytes, home) is not { } current) return NotAnObject(home);

            var next = replace ? new JsonObject() : (JsonObject)current.DeepClone();
            foreach (var (key, value) in body)
            {
                if (value.ValueKind == JsonValueKind.Null) next.Remove(key);
                else next[key] = JsonNode.Parse(value.GetRawText());
            }
            var changes = new List<(string Key, string Action, string Type, string? Old, string? New)>();
            foreach (var key in current.Select(p => p.Key).Union(next.Select(p => p.Key)))
            {
                var old = current[key];
                var now = next[key];
                if (JsonNode.DeepEquals(old, now) && current.ContainsKey(key) == next.ContainsKey(key)) continue;
                var element = (now ?? old)?.Deserialize<JsonElement>() ?? default;
                changes.Add((key, next.ContainsKey(key) ? "set" : "delete", BrocaSettingRules.TypeOf(element), Text(old), Text(now)));
            }
            var content = Encoding.UTF8.GetBytes(next.ToJsonString(FileJson) + "\n");
            if (changes.Count > 0)
                await CommitAsync(s, SettingsStore, id, path, content, changes.Select(c => (c.Key, c.Action, c.Type, false, c.Old, c.New)).ToList(),
                    "broca.settings.changed");
            s.Http.Response.Headers.ETag = InstanceFolder.ETagOf(changes.Count > 0 ? content : bytes);
            return TypedResults.Json(changes.Count > 0 ? next : current);
        }));
    }

    private static Task<IResult> GetEnv(string id, bool? reveal, BrocaFileServices s)
    {
        if (reveal == true && !s.Http.User.IsAdmin())
            return Task.FromResult<IResult>(TypedResults.Problem(detail: "Only an admin may reveal secrets.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"));
        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            var bytes = await InstanceFolder.ReadAsync(home.File(BrocaHome.EnvFile), s.Http.RequestAborted);
            var variables = BrocaEnvFile.Parse(Encoding.UTF8.GetString(bytes ?? [])).Variables;
            if (reveal == true)
            {
                var keys = variables.Where(v => BrocaSettingRules.IsSecret(v.Key) && v.Value.Length > 0).Select(v => v.Key).ToList();
                if (keys.Count > 0) s.Audit.Record(new AuditEvent("secret.revealed", EnvStore, id, new { keys }), s.Http);
            }
            s.Http.Response.Headers.ETag = InstanceFolder.ETagOf(bytes);
            return TypedResults.Json(Shown(variables, reveal == true));
        });
    }

    private static Task<IResult> WriteEnv(string id, BrocaEnvDocument body, bool replace, BrocaFileServices s)
    {
        var errors = new Errors();
        var wanted = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in body)
        {
            if (!ConfigKeys.IsEnvName(name)) { errors.Add(name, $"Must match {ConfigKeys.EnvNamePattern}, at most {ConfigKeys.MaxEnvName} characters."); continue; }
            string? text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            };
            if (value.ValueKind == JsonValueKind.Null && !replace) { wanted[name] = null; continue; }
            if (text is null) { errors.Add(name, "Must be text (a number or true/false is written as text)."); continue; }
            if (text != Secrets.Mask && BrocaSettingRules.EnvProblem(name, text) is { } problem) { errors.Add(name, problem); continue; }
            wanted[name] = text;
        }
        if (errors.Any) return Task.FromResult<IResult>(Problems.Invalid(errors));

        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, home => Locked(home.File(BrocaHome.EnvFile), async path =>
        {
            var bytes = await InstanceFolder.ReadAsync(path, s.Http.RequestAborted);
            if (!BrocaResults.Matches(s.Http, InstanceFolder.ETagOf(bytes))) return BrocaResults.PreconditionFailed($"Broca's {BrocaHome.EnvFile}");
            var file = BrocaEnvFile.Parse(Encoding.UTF8.GetString(bytes ?? []));
            var current = file.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);

            var refused = new Errors();
            foreach (var (name, value) in wanted.Where(w => w.Value == Secrets.Mask).ToList())
            {
                // The mask sent back keeps the stored secret; it is never written as a value.
                if (BrocaSettingRules.IsSecret(name) && current.TryGetValue(name, out var stored) && stored.Length > 0) wanted[name] = stored;
                else refused.Add(name, "The mask stands for a stored secret, and there is none here: send the value itself.");
            }
            if (refused.Any) return Problems.Invalid(refused);

            var changes = new List<(string Key, string Action, string Type, bool Secret, string? Old, string? New)>();
            foreach (var (name, value) in wanted)
            {
                var had = current.TryGetValue(name, out var old);
                if (value is null)
                {
                    if (!had) continue;
                    file.Remove(name);
                    changes.Add((name, "delete", "string", BrocaSettingRules.IsSecret(name), old, null));
                }
                else if (!had || old != value)
                {
                    file.Set(name, value);
                    changes.Add((name, "set", "string", BrocaSettingRules.IsSecret(name), had ? old : null, value));
                }
            }
            if (replace)
                foreach (var (name, old) in current.Where(c => !wanted.ContainsKey(c.Key)))
                {
                    file.Remove(name);
                    changes.Add((name, "delete", "string", BrocaSettingRules.IsSecret(name), old, null));
                }
            var content = Encoding.UTF8.GetBytes(file.ToString());
            if (changes.Count > 0) await CommitAsync(s, EnvStore, id, path, content, changes, "broca.env.changed");
            s.Http.Response.Headers.ETag = InstanceFolder.ETagOf(changes.Count > 0 ? content : bytes);
            return TypedResults.Json(Shown(changes.Count > 0 ? file.Variables : current.ToList(), reveal: false));
        }));
    }

    private static Task<IResult> History(string id, string? file, string? key, BrocaFileServices s)
    {
        var store = file switch { null or "settings" => SettingsStore, "env" => EnvStore, _ => null };
        if (store is null) return Task.FromResult<IResult>(Problems.Invalid("file", "Must be settings or env."));
        if (key is { Length: 0 or > MaxKey }) return Task.FromResult<IResult>(Problems.Invalid("key", $"A key is 1 to {MaxKey} characters."));
        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http,
            async _ => TypedResults.Ok(await s.Settings.FileHistoryAsync(s.Db, store, id, key, MaxHistory)));
    }

    /// <summary>Records the changes and replaces the file: the history commits only if the file was written.</summary>
    private static async Task CommitAsync(BrocaFileServices s, string store, string agentId, string path, byte[] content,
        List<(string Key, string Action, string Type, bool Secret, string? Old, string? New)> changes, string action)
    {
        await s.Db.OpenAsync(s.Http.RequestAborted);
        await using var tx = await s.Db.BeginTransactionAsync(s.Http.RequestAborted);
        foreach (var c in changes) await s.Settings.RecordFileChangeAsync(s.Db, tx, store, agentId, c.Key, c.Action, c.Type, c.Secret, c.Old, c.New, s.Http);
        await s.Audit.RecordAsync(new AuditEvent(action, "agent", agentId,
            new { file = Path.GetFileName(path), keys = changes.Select(c => c.Key).ToList(), count = changes.Count }), s.Http, s.Db, tx);
        await InstanceFolder.WriteAtomicAsync(path, content, s.Http.RequestAborted);
        await tx.CommitAsync(s.Http.RequestAborted);
    }

    private static async Task<IResult> Locked(string path, Func<string, Task<IResult>> body)
    {
        var gate = Locks.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try { return await body(path); }
        finally { gate.Release(); }
    }

    private static JsonObject? ParseSettings(byte[]? bytes, AgentHome home)
    {
        if (bytes is null || bytes.Length == 0) return new JsonObject();
        try { return JsonNode.Parse(bytes) as JsonObject; }
        catch (JsonException) { return null; }
    }

    private static IResult NotAnObject(AgentHome home) =>
        Problems.Conflict($"{home.File(BrocaHome.SettingsFile)} is not a JSON object: fix it by hand, the panel does not overwrite it.");

    private static Dictionary<string, string> Shown(IEnumerable<KeyValuePair<string, string>> variables, bool reveal) =>
        variables.ToDictionary(v => v.Key, v => !reveal && BrocaSettingRules.IsSecret(v.Key) && v.Value.Length > 0 ? Secrets.Mask : v.Value, StringComparer.Ordinal);

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };
}

/// <summary>The services of the Broca file handlers.</summary>
public sealed record BrocaFileServices(DbConnection Db, SettingsCore Settings, AuditLog Audit, HttpContext Http)
{
    public static ValueTask<BrocaFileServices> BindAsync(HttpContext http) => ValueTask.FromResult(new BrocaFileServices(
        http.RequestServices.GetRequiredService<DbConnection>(), http.RequestServices.GetRequiredService<SettingsCore>(),
        http.RequestServices.GetRequiredService<AuditLog>(), http));
}

/// <summary>settings.json as its JSON object: message_mode, queue_refresh, max_retries, debug_mode and any other key.</summary>
public sealed class BrocaSettingsDocument : Dictionary<string, JsonElement>;

/// <summary>.env variables by name: text values (secrets as the mask "********" unless revealed).</summary>
public sealed class BrocaEnvDocument : Dictionary<string, JsonElement>;
