namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// The Letta link against Prism serving Letta's published OpenAPI document (letta-openapi.json) in its validating mock
/// mode: every request we send is checked against Letta's contract, and Prism's 422 for a request that breaks it fails
/// the test (our client reports it as "HTTP 422", and the log is checked too).
/// </summary>
public class LettaPrismTests
{
    private PeerProcess _prism = null!;
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

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

    [TearDown]
    public void NoRequestBrokeLettasContract()
    {
        var log = _prism.LogSinceReady;
        Assert.That(log, Does.Not.Contain("[VALIDATOR] ✖").And.Not.Contain("\"422\""), log);
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

    [Test, Order(1)]
    public async Task WithoutAUrlTheTestIsRefusedAndCallsNothing()
    {
        var status = await _admin.GetFromJsonAsync<JsonElement>("/api/letta/status");
        if (status.GetProperty("configured").GetBoolean()) Assert.Ignore("another test linked Letta first");
        await (await _admin.PostAsync("/api/letta/test", null)).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Test, Order(2)]
    public async Task TheConnectionTestReportsVersionLatencyAndLastSuccess()
    {
        await LinkAsync();

        var response = await _admin.PostAsync("/api/letta/test", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var status = await response.JsonAsync();
        Assert.That(status.GetProperty("last_ok").GetBoolean(), Is.True, status.ToString());
        Assert.That(status.GetProperty("version").GetString(), Is.Not.Null);
        Assert.That(status.GetProperty("latency_ms").GetInt64(), Is.GreaterThanOrEqualTo(0));
        Assert.That(status.GetProperty("last_success_at").GetString(), Is.EqualTo(status.GetProperty("last_checked_at").GetString()));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = 'letta_server_password'"),
            Is.Not.EqualTo("letta-server-password"), "the password is stored encrypted");
    }

    [Test, Order(3)]
    public async Task WithoutThePasswordLettaRefusesAndTheLastSuccessIsKept()
    {
        await LinkAsync();
        var first = await (await _admin.PostAsync("/api/letta/test", null)).JsonAsync();
        await LinkAsync(password: null);

        var status = await (await _admin.PostAsync("/api/letta/test", null)).JsonAsync();

        Assert.That(status.GetProperty("last_ok").GetBoolean(), Is.False);
        Assert.That(status.GetProperty("error").GetString(), Does.Contain("401"));
        Assert.That(status.GetProperty("last_success_at").GetString(), Is.EqualTo(first.GetProperty("last_success_at").GetString()));
        await LinkAsync();
    }

    [Test, Order(4)]
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

    [Test, Order(5)]
    public async Task AgentsArePagedThroughLettasOwnParameters()
    {
        await LinkAsync();

        var response = await _admin.GetAsync("/api/letta/agents?limit=5&after=agent-123");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var page = await response.JsonAsync();
        Assert.That(page.GetProperty("items").GetArrayLength(), Is.LessThanOrEqualTo(5));
        Assert.That(_prism.LogSinceReady, Does.Contain("/v1/agents/?limit=5&after=agent-123"));
        await (await _admin.GetAsync("/api/letta/agents?limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Test]
    public void ACheckWithATargetOrAnUnknownTypeIsRefused()
    {
        var errors = new Sanctum.Api.Infrastructure.Errors();
        Sanctum.Api.Health.HealthCheckSpec.Read(JsonSerializer.SerializeToElement(new { type = "letta", target = "http://x" }), errors);
        Assert.That(errors.Has("health_check.target"), Is.True);
    }
}
