namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// Admin writes that set one value in one row ("registers"), by the operation id that serves them. The crash and
/// concurrency tests use every one that the served OpenAPI document has, so writes that land later are covered
/// without touching the tests. A slot picks the row: each crash writer has its own, the concurrency writers share 0.
/// </summary>
public sealed record RegisterKind(
    string OperationId, string Method, Func<int, string> Path, Func<string, object> Body, string ReadSql, Func<int, object> ReadArgs, int Slots = 64)
{
    private static readonly string[] Tools = ["system-settings", "install-tool", "cron-scheduler", "create-agent", "backup-restore", "chat-settings", "broca"];
    private static readonly string[] Agents = ["athena", "monday", "timbre"];

    public static readonly RegisterKind[] All =
    [
        new("PutConfig", "PUT", s => $"/api/config/evidence_key_{s}", v => new { value = v },
            "SELECT config_value FROM system_config WHERE config_key = @key", s => new { key = $"evidence_key_{s}" }),
        new("PutEnvVar", "PUT", s => $"/api/config/env/EVIDENCE_VAR_{s}", v => new { value = v },
            "SELECT var_value FROM env_vars WHERE var_name = @name", s => new { name = $"EVIDENCE_VAR_{s}" }),
        new("UpdateTool", "PATCH", s => $"/api/tools/{Tools[s]}", v => new { description = v },
            "SELECT description FROM tools WHERE id = @id", s => new { id = Tools[s] }, Slots: Tools.Length),
        new("UpdateAgent", "PATCH", s => $"/api/agents/{Agents[s]}", v => new { description = v },
            "SELECT description FROM agents WHERE id = @id", s => new { id = Agents[s] }, Slots: Agents.Length),
        new("PutAgentConfig", "PUT", s => $"/api/agents/athena/config/evidence_key_{s}", v => new { value = v },
            "SELECT config_value FROM agent_configs WHERE agent_id = 'athena' AND config_key = @key", s => new { key = $"evidence_key_{s}" }),
    ];

    /// <summary>The kinds whose operation the server's OpenAPI document has.</summary>
    public static async Task<List<RegisterKind>> AvailableAsync(HttpClient client)
    {
        var document = await client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var ids = ApiOperation.Read(document).Select(o => o.OperationId).ToHashSet();
        return All.Where(k => ids.Contains(k.OperationId)).ToList();
    }

    public async Task<(HttpStatusCode Status, string Body)> WriteAsync(HttpClient client, int slot, string value, CancellationToken cancel = default)
    {
        using var request = new HttpRequestMessage(new HttpMethod(Method), Path(slot)) { Content = JsonContent.Create(Body(value)) };
        using var response = await client.SendAsync(request, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        Assert.That((int)response.StatusCode, Is.LessThan(500), $"{Method} {Path(slot)}: {text}");
        Assert.That(text, Does.Not.Contain("database is locked").IgnoreCase, $"{Method} {Path(slot)}");
        return (response.StatusCode, text);
    }

    public string? Read(System.Data.Common.DbConnection db, int slot) => db.QuerySingleOrDefault<string>(ReadSql, ReadArgs(slot));

    public override string ToString() => OperationId;
}

/// <summary>Each crash writer sets its own row to w-0, w-1, w-2 ...: after the crash the row holds the last acknowledged value or the next.</summary>
public sealed class RegisterCrashScenario(RegisterKind kind, string adminToken) : CrashScenario
{
    private readonly int[] _acknowledged = Enumerable.Repeat(-1, 4).ToArray();
    private HttpClient? _client;

    public override string Name => kind.OperationId;
    public override int Writers => Math.Min(4, kind.Slots);

    private static string Value(int writer, int version) => $"w{writer}-{version}";

    protected override async Task WriteOnceAsync(ServerProcess server, int writer, CancellationToken stop)
    {
        _client ??= server.CreateClient(adminToken);
        var version = _acknowledged[writer] + 1;
        var (status, body) = await kind.WriteAsync(_client, writer, Value(writer, version), stop);
        Assert.That((int)status, Is.InRange(200, 299), $"{kind} writer {writer}: {body}");
        _acknowledged[writer] = version;
        Ack();
    }

    public override void Verify(System.Data.Common.DbConnection db, int round)
    {
        _client?.Dispose();
        _client = null;
        for (var w = 0; w < Writers; w++)
        {
            var acked = _acknowledged[w];
            var stored = kind.Read(db, w);
            if (acked < 0 && stored != Value(w, 0)) continue; // untouched: still the row's original value
            if (stored == Value(w, acked)) continue;
            // The write in flight at the kill may have committed without its answer reaching us: allowed.
            Assert.That(stored, Is.EqualTo(Value(w, acked + 1)), $"round {round}: {kind} writer {w} acknowledged {Value(w, acked)}");
            _acknowledged[w] = acked + 1;
        }
    }
}
