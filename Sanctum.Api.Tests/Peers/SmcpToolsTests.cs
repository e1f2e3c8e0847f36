using Sanctum.Api.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// The SMCP client against the MCP reference server (npm @modelcontextprotocol/server-everything) in its SSE and
/// streamable HTTP modes, and behind a keyed proxy: listing, the catalogue, the mcp check, tool runs and their audit.
/// </summary>
public class SmcpToolsTests
{
    private PeerProcess _sse = null!, _streamable = null!;
    private KeyedProxy _keyed = null!;
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;
    private const string Key = "proxy-key-7b1e";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var sse = EverythingServer.StartAsync("sse");
        var streamable = EverythingServer.StartAsync("streamableHttp");
        _sse = await sse;
        _streamable = await streamable;
        _keyed = await KeyedProxy.StartAsync(_streamable.BaseUrl, Key);
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _admin = await _app.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _app.Dispose();
        await _keyed.DisposeAsync();
        _sse.Dispose();
        _streamable.Dispose();
    }

    private async Task<long> InstanceAsync(string url, int timeoutMs = 10_000, bool check = true)
    {
        object body = check
            ? new { name = "smcp " + Guid.NewGuid().ToString("N")[..6], config = new { url, timeout_ms = timeoutMs }, health_check = new { type = "mcp", interval_seconds = 60, timeout_ms = 8000 } }
            : new { name = "smcp " + Guid.NewGuid().ToString("N")[..6], config = new { url, timeout_ms = timeoutMs } };
        var response = await _admin.PostAsJsonAsync("/api/tools/smcp/instances", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private async Task<JsonElement> CheckAsync(long instance)
    {
        var response = await _admin.PostAsync($"/api/tools/smcp/instances/{instance}/check", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task<List<JsonElement>> ToolsOfAsync(long instance) =>
        (await _admin.GetFromJsonAsync<JsonElement>("/api/smcp/tools")).GetProperty("items").EnumerateArray()
            .Where(t => t.GetProperty("instance_id").GetInt64() == instance).ToList();

    private static string Text(JsonElement result) =>
        string.Concat(result.GetProperty("content").EnumerateArray().Where(c => c.GetProperty("type").GetString() == "text").Select(c => c.GetProperty("text").GetString()));

    [TestCase("sse", "/sse")]
    [TestCase("streamableHttp", "/mcp")]
    public async Task TheMcpCheckListsTheToolsIntoTheCatalogueAndMakesTheInstanceHealthy(string mode, string path)
    {
        var server = mode == "sse" ? _sse : _streamable;
        var instance = await InstanceAsync(server.BaseUrl + path);

        var run = await CheckAsync(instance);

        Assert.That(run.GetProperty("result").GetProperty("ok").GetBoolean(), Is.True, run.ToString());
        Assert.That(run.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        var tools = await ToolsOfAsync(instance);
        var echo = tools.Single(t => t.GetProperty("name").GetString() == "echo");
        Assert.That(echo.GetProperty("input_schema").GetProperty("properties").GetProperty("message").GetProperty("type").GetString(), Is.EqualTo("string"));
        Assert.That(echo.GetProperty("stale").GetBoolean(), Is.False);
        Assert.That(echo.GetProperty("listed_at").GetString(), Is.Not.Empty);
        Assert.That(tools.Select(t => t.GetProperty("name").GetString()), Does.Contain("get-sum"));
    }

    [Test]
    public async Task EchoAndAddRunAndAreAuditedWithTheirDuration()
    {
        var instance = await InstanceAsync(_streamable.BaseUrl + "/mcp");
        await CheckAsync(instance);

        var echo = await _admin.PostAsJsonAsync("/api/smcp/tools/echo/call", new { arguments = new { message = "hello sanctum" }, instance_id = instance });
        Assert.That(echo.StatusCode, Is.EqualTo(HttpStatusCode.OK), await echo.Content.ReadAsStringAsync());
        var echoed = await echo.JsonAsync();
        Assert.That(Text(echoed), Is.EqualTo("Echo: hello sanctum"));
        Assert.That(echoed.GetProperty("is_error").GetBoolean(), Is.False);
        Assert.That(echoed.GetProperty("instance_id").GetInt64(), Is.EqualTo(instance));

        var sum = await (await _admin.PostAsJsonAsync("/api/smcp/tools/get-sum/call", new { arguments = new { a = 2, b = 3 }, instance_id = instance })).JsonAsync();
        Assert.That(Text(sum), Does.Contain("5"));

        await _app.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = _app.OpenDatabase();
        var rows = db.Query<(string TargetId, string Outcome, string Details)>(
            "SELECT target_id, outcome, details FROM audit_log WHERE action = 'smcp.tool.called' AND details LIKE @like ORDER BY id",
            new { like = $"%\"instance_id\":{instance},%" }).ToList();
        Assert.That(rows.Select(r => r.TargetId), Is.EqualTo(new[] { "echo", "get-sum" }));
        Assert.That(rows.Select(r => r.Outcome), Is.All.EqualTo("ok"));
        Assert.That(rows[0].Details, Does.Contain("\"duration_ms\":").And.Contain("hello sanctum"));
    }

    [Test]
    public async Task ArgumentsThatBreakTheInputSchemaAreRefusedPerFieldAndNothingIsSent()
    {
        var instance = await InstanceAsync(_streamable.BaseUrl + "/mcp");
        await CheckAsync(instance);

        var response = await _admin.PostAsJsonAsync("/api/smcp/tools/get-sum/call", new { arguments = new { a = "two" }, instance_id = instance });

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(fields, Does.Contain("arguments/a").Or.Contain("arguments"), problem.ToString());
        await _app.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'smcp.tool.called' AND details LIKE @like",
            new { like = $"%\"instance_id\":{instance},%" }), Is.Zero);
    }

    [Test]
    public async Task AToolSlowerThanTheInstanceTimeoutAnswers504()
    {
        var instance = await InstanceAsync(_streamable.BaseUrl + "/mcp", timeoutMs: 1500);
        await CheckAsync(instance);

        var response = await _admin.PostAsJsonAsync("/api/smcp/tools/trigger-long-running-operation/call",
            new { arguments = new { duration = 10, steps = 2 }, instance_id = instance });

        var problem = await response.AssertProblemAsync(HttpStatusCode.GatewayTimeout);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("timed out after 1500 ms"));
    }

    [Test]
    public async Task WithoutTheKeyTheInstanceIsOffAt401AndWithItHealthy()
    {
        var instance = await InstanceAsync(_keyed.BaseUrl + "/mcp");

        var refused = await CheckAsync(instance);
        Assert.That(refused.GetProperty("result").GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(refused.GetProperty("result").GetProperty("error").GetString(), Does.Contain("401"));
        Assert.That(refused.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Off"));
        Assert.That(_keyed.Refused, Is.GreaterThan(0));

        var put = await _admin.PutAsJsonAsync($"/api/configurations/instance/{instance}/api_key", new { value = Key });
        Assert.That((int)put.StatusCode, Is.InRange(200, 201), await put.Content.ReadAsStringAsync());
        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT value FROM configurations WHERE scope = 'instance' AND scope_id = @id AND key = 'api_key'",
                new { id = instance.ToString(System.Globalization.CultureInfo.InvariantCulture) }), Is.Not.EqualTo(Key), "stored encrypted");

        var accepted = await CheckAsync(instance);
        Assert.That(accepted.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Healthy"), accepted.ToString());
        Assert.That(await ToolsOfAsync(instance), Is.Not.Empty);
    }

    [Test]
    public async Task AFailedListingKeepsTheLastToolsMarkedStale()
    {
        var instance = await InstanceAsync(_sse.BaseUrl + "/sse", check: false);
        var refresh = await (await _admin.PostAsync("/api/smcp/tools/refresh", null)).JsonAsync();
        var mine = refresh.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("instance_id").GetInt64() == instance);
        Assert.That(mine.GetProperty("ok").GetBoolean(), Is.True, mine.ToString());
        var before = await ToolsOfAsync(instance);
        Assert.That(before, Is.Not.Empty);

        var dead = PeerProcess.FreePort();
        var patch = await _admin.PatchAsJsonAsync($"/api/tools/smcp/instances/{instance}", new { config = new { url = $"http://127.0.0.1:{dead}/sse", timeout_ms = 2000 } });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        refresh = await (await _admin.PostAsync("/api/smcp/tools/refresh", null)).JsonAsync();
        mine = refresh.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("instance_id").GetInt64() == instance);
        Assert.That(mine.GetProperty("ok").GetBoolean(), Is.False);

        var after = await ToolsOfAsync(instance);
        Assert.That(after.Select(t => t.GetProperty("name").GetString()), Is.EqualTo(before.Select(t => t.GetProperty("name").GetString())));
        Assert.That(after.Select(t => t.GetProperty("stale").GetBoolean()), Is.All.True);
        Assert.That(after.Select(t => t.GetProperty("listed_at").GetString()), Is.EqualTo(before.Select(t => t.GetProperty("listed_at").GetString())));
    }

    [Test]
    public async Task AnUnknownToolIs404AndOnlyAdminsRunTools()
    {
        await (await _admin.PostAsJsonAsync("/api/smcp/tools/no-such-tool/call", new { arguments = new { } })).AssertProblemAsync(HttpStatusCode.NotFound);
        var viewer = await _app.CreateClientForRoleAsync("viewer");
        Assert.That((await viewer.PostAsJsonAsync("/api/smcp/tools/echo/call", new { arguments = new { message = "x" } })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await viewer.GetAsync("/api/smcp/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void SecretLookingArgumentsAreMaskedForTheAuditAtAnyDepth()
    {
        var arguments = JsonSerializer.SerializeToElement(new { city = "Lisbon", api_key = "k-1", nested = new { password = "p-1", depth = 2 } });
        var redacted = Sanctum.Api.Smcp.ToolArguments.Redacted(arguments)!.ToJsonString();
        Assert.That(redacted, Does.Contain("Lisbon").And.Not.Contain("k-1").And.Not.Contain("p-1"));
        Assert.That(redacted, Does.Contain("\"depth\":2"));
    }
}
