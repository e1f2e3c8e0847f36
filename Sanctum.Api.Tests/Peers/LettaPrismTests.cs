namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// The Letta link against Prism serving Letta's published OpenAPI document (letta-openapi.json) in its validating mock
/// mode: every request we send is checked against Letta's contract and answered from its schemas. A request that breaks
/// the contract gets Prism's 422, which our client reports ("HTTP 422"), and the log check after each test fails it too.
/// </summary>
public class LettaPrismTests
{
    private PeerProcess _prism = null!;
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;
    private int _mark;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var document = Path.Combine(OpenApiTests.RepositoryRoot(), "Sanctum.Api.Tests", "Peers", "letta-openapi.json");
        var cli = Path.Combine(PeerProcess.ToolFolder("prism"), "node_modules", "@stoplight", "prism-cli", "dist", "index.js");
        var port = PeerProcess.FreePort();
        _prism = await PeerProcess.StartAsync(cli, ["mock", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), document],
            "Prism is listening", port, wait: TimeSpan.FromMinutes(3));
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _admin = await _app.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _app.Dispose();
        _prism.Dispose();
    }

    [SetUp]
    public void MarkLog() => _mark = _prism.Mark;

    /// <summary>
    /// Prism's validator marks every request that breaks Letta's contract (its 422); a missing or wrong password is a
    /// security failure (401), which the tests about it expect.
    /// </summary>
    [TearDown]
    public void NoRequestBrokeLettasContract()
    {
        var broken = _prism.LogSince(_mark).Split('\n')
            .Where(l => (l.Contains("[VALIDATOR] ✖", StringComparison.Ordinal) && !l.Contains("Invalid security scheme", StringComparison.Ordinal))
                || l.Contains("\"422\"", StringComparison.Ordinal) || l.Contains("UNPROCESSABLE", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.That(broken, Is.Empty, _prism.LogSince(_mark));
    }

    private async Task SetAsync(string key, string value)
    {
        var response = await _admin.PutAsJsonAsync($"/api/config/{key}", new { value });
        Assert.That((int)response.StatusCode, Is.InRange(200, 201), await response.Content.ReadAsStringAsync());
    }

    private async Task LinkAsync(string? password = "letta-server-password")
    {
        await SetAsync("letta_server_url", _prism.BaseUrl);
        if (password is null) (await _admin.DeleteAsync("/api/config/letta_server_password")).Dispose();
        else await SetAsync("letta_server_password", password);
    }

    private readonly Dictionary<string, string> _uids = [];

    /// <summary>A Letta agent id (agent- and a UUID v4, as Letta's contract requires) for one Sanctum agent id.</summary>
    private string Uid(string agent) => _uids.TryGetValue(agent, out var uid) ? uid : _uids[agent] = "agent-" + Guid.NewGuid().ToString("D");

    private async Task<string> AgentAsync()
    {
        var id = "a-" + Guid.NewGuid().ToString("N")[..10];
        var created = await _admin.PostAsJsonAsync("/api/agents", new { id, name = "Agent " + id });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        return id;
    }

    [Test]
    public async Task WithoutAUrlTheTestIsRefusedAndLettaIsNotCalled()
    {
        (await _admin.DeleteAsync("/api/config/letta_server_url")).Dispose();
        var mark = _prism.Mark;

        await (await _admin.PostAsync("/api/letta/test", null)).AssertProblemAsync(HttpStatusCode.Conflict);

        var status = await _admin.GetFromJsonAsync<JsonElement>("/api/letta/status");
        Assert.That(status.GetProperty("configured").GetBoolean(), Is.False);
        Assert.That(_prism.LogSince(mark), Does.Not.Contain("Request received"));
    }

    [Test]
    public async Task TheConnectionTestReportsVersionLatencyAndLastSuccess()
    {
        await LinkAsync();

        var response = await _admin.PostAsync("/api/letta/test", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var status = await response.JsonAsync();
        Assert.That(status.GetProperty("configured").GetBoolean(), Is.True);
        Assert.That(status.GetProperty("last_ok").GetBoolean(), Is.True, status.ToString());
        Assert.That(status.GetProperty("version").GetString(), Is.Not.Null);
        Assert.That(status.GetProperty("latency_ms").GetInt64(), Is.GreaterThanOrEqualTo(0));
        Assert.That(status.GetProperty("last_success_at").GetString(), Is.EqualTo(status.GetProperty("last_checked_at").GetString()));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = 'letta_server_password'"),
            Is.Not.EqualTo("letta-server-password"), "the password is stored encrypted");
    }

    [Test]
    public async Task WithoutThePasswordLettaRefusesAndTheLastSuccessIsKept()
    {
        await LinkAsync();
        var first = await (await _admin.PostAsync("/api/letta/test", null)).JsonAsync();
        await LinkAsync(password: null);

        var status = await (await _admin.PostAsync("/api/letta/test", null)).JsonAsync();

        Assert.That(status.GetProperty("last_ok").GetBoolean(), Is.False);
        Assert.That(status.GetProperty("error").GetString(), Does.Contain("401"));
        Assert.That(status.GetProperty("last_success_at").GetString(), Is.EqualTo(first.GetProperty("last_success_at").GetString()));
    }

    [Test]
    public async Task TheLettaCheckTypeMakesAnInstanceHealthy()
    {
        await LinkAsync();
        var tool = "letta-" + Guid.NewGuid().ToString("N")[..8];
        (await _admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Letta", category = "master" })).EnsureSuccessStatusCode();
        var created = await _admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "letta", health_check = new { type = "letta", interval_seconds = 60, timeout_ms = 20000 } });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var id = (await created.JsonAsync()).GetProperty("id").GetInt64();

        var run = await (await _admin.PostAsync($"/api/tools/{tool}/instances/{id}/check", null)).JsonAsync();

        Assert.That(run.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Healthy"), run.ToString());
    }

    [Test]
    public async Task AgentsArePagedThroughLettasOwnParameters()
    {
        await LinkAsync();

        var response = await _admin.GetAsync("/api/letta/agents?limit=5&after=agent-123e4567-e89b-42d3-8456-426614174000");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var page = await response.JsonAsync();
        Assert.That(page.GetProperty("items").GetArrayLength(), Is.LessThanOrEqualTo(5));
        Assert.That(_prism.LogSince(_mark), Does.Contain("get /v1/agents/"));
        await (await _admin.GetAsync("/api/letta/agents?limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await _admin.GetAsync("/api/letta/agents?after=%20x")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task ALinkedAgentsLettaViewIsReadThroughLettasContract()
    {
        await LinkAsync();
        var agent = await AgentAsync();
        var linked = await _admin.PutAsJsonAsync($"/api/agents/{agent}/letta", new { letta_uid = Uid(agent) });
        Assert.That(linked.StatusCode, Is.EqualTo(HttpStatusCode.OK), await linked.Content.ReadAsStringAsync());
        Assert.That((await linked.JsonAsync()).GetProperty("letta_uid").GetString(), Is.EqualTo(Uid(agent)));

        var view = await _admin.GetFromJsonAsync<JsonElement>($"/api/agents/{agent}/letta");

        Assert.That(view.GetProperty("reachable").GetBoolean(), Is.True, view.ToString());
        var letta = view.GetProperty("letta");
        Assert.That(letta.GetProperty("id").GetString(), Is.Not.Empty);
        Assert.That(letta.GetProperty("tools").ValueKind, Is.EqualTo(JsonValueKind.Array));
        foreach (var block in letta.GetProperty("blocks").EnumerateArray())
            Assert.That(block.GetProperty("characters").GetInt32(), Is.EqualTo(block.GetProperty("value").GetString()!.Length));
        Assert.That(_prism.LogSince(_mark), Does.Contain($"get /v1/agents/{Uid(agent)}"));
    }

    [Test]
    public async Task AStaleEtagIsRefusedAfterReadingTheBlockAndNothingIsWritten()
    {
        await LinkAsync();
        var agent = await AgentAsync();
        (await _admin.PutAsJsonAsync($"/api/agents/{agent}/letta", new { letta_uid = Uid(agent) })).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/agents/{agent}/letta/blocks/human") { Content = JsonContent.Create(new { value = "new" }) };
        request.Headers.TryAddWithoutValidation("If-Match", "\"not-what-letta-holds\"");

        await (await _admin.SendAsync(request)).AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        var log = _prism.LogSince(_mark);
        Assert.That(log, Does.Contain($"get /v1/agents/{Uid(agent)}/core-memory/blocks/human"));
        Assert.That(log, Does.Not.Contain("patch /v1/"));
    }

    [Test]
    public async Task ImportingALettaAgentMakesALinkedSanctumAgent()
    {
        await LinkAsync();
        var id = "imp-" + Guid.NewGuid().ToString("N")[..8];

        var response = await _admin.PostAsJsonAsync($"/api/letta/agents/{Uid(id)}/import", new { id });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var agent = await response.JsonAsync();
        Assert.That(agent.GetProperty("letta_uid").GetString(), Is.EqualTo(Uid(id)));
        Assert.That(agent.GetProperty("name").GetString(), Is.Not.Empty);
    }

    [Test]
    public void ACheckWithATargetIsRefused()
    {
        var errors = new Sanctum.Api.Infrastructure.Errors();
        Sanctum.Api.Health.HealthCheckSpec.Read(JsonSerializer.SerializeToElement(new { type = "letta", target = "http://x" }), errors);
        Assert.That(errors.Has("health_check.target"), Is.True);
    }
}
