using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Signals;

/// <summary>Instance health checks against real loopback listeners: up, down and slow; run on demand (the runner is off here).</summary>
public class HealthCheckTests
{
    private SanctumApplication _app = null!;
    private RoleClients _clients = null!;
    private HttpClient Admin => _clients.Admin;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:HealthChecks:Enabled"] = "false",
            ["Sanctum:HealthChecks:DegradedLatencyMs"] = "300",
            ["Sanctum:HealthChecks:OffAfterFailures"] = "3",
        });
        _clients = await RoleClients.CreateAsync(_app);
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    private async Task<string> CreateToolAsync()
    {
        var id = "h-" + Guid.NewGuid().ToString("N")[..10];
        var response = await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Tool " + id, category = "master", status = "Ready" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return id;
    }

    private async Task<JsonElement> CreateInstanceAsync(string tool, object healthCheck)
    {
        var response = await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "probed", health_check = healthCheck });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task<JsonElement> CheckAsync(string tool, long instance)
    {
        var response = await Admin.PostAsync($"/api/tools/{tool}/instances/{instance}/check", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private Task<JsonElement> ToolAsync(string tool) => Admin.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}");

    [Test]
    public async Task APassingHttpCheckMakesTheInstanceAndItsToolHealthyFromTheCheck()
    {
        using var up = new LoopbackServer(200);
        var tool = await CreateToolAsync();
        var instance = await CreateInstanceAsync(tool, new { type = "http", target = up.Url, interval_seconds = 30, timeout_ms = 2000 });
        Assert.That(instance.GetProperty("health_check").GetProperty("target").GetString(), Is.EqualTo(up.Url));
        Assert.That(instance.GetProperty("status_source").GetString(), Is.EqualTo("manual"));

        var run = await CheckAsync(tool, instance.GetProperty("id").GetInt64());

        Assert.That(run.GetProperty("result").GetProperty("ok").GetBoolean(), Is.True);
        var after = run.GetProperty("instance");
        Assert.That(after.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(after.GetProperty("status_source").GetString(), Is.EqualTo("check"));
        Assert.That(after.GetProperty("last_check_ok").GetBoolean(), Is.True);
        Assert.That(after.GetProperty("status_since").GetString(), Is.Not.Null);
        Assert.That(up.Served, Is.EqualTo(1));
        var toolNow = await ToolAsync(tool);
        Assert.That(toolNow.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(toolNow.GetProperty("status_source").GetString(), Is.EqualTo("check"));

        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM health_check_results WHERE instance_id = @id AND ok = TRUE",
            new { id = instance.GetProperty("id").GetInt64() }), Is.EqualTo(1));
        Assert.That(db.ExecuteScalar<string>("SELECT source FROM status_history WHERE kind = 'tool' AND entity_id = @tool AND new_status = 'Healthy'",
            new { tool }), Is.EqualTo("check"));
    }

    [Test]
    public async Task AnUnexpectedHttpStatusFailsTheCheck()
    {
        using var server = new LoopbackServer(503);
        var tool = await CreateToolAsync();
        var instance = await CreateInstanceAsync(tool, new { type = "http", target = server.Url, expect_status = 200 });
        var run = await CheckAsync(tool, instance.GetProperty("id").GetInt64());
        Assert.That(run.GetProperty("result").GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(run.GetProperty("result").GetProperty("error").GetString(), Does.Contain("503"));
        Assert.That(run.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Degraded"));
    }

    [Test]
    public async Task ADownTargetIsDegradedThenOffAfterThreeFailuresInARowAndHealthyWhenItAnswersAgain()
    {
        var port = LoopbackServer.ClosedPort();
        var tool = await CreateToolAsync();
        var instance = await CreateInstanceAsync(tool, new { type = "tcp", target = $"127.0.0.1:{port}", timeout_ms = 1000 });
        var id = instance.GetProperty("id").GetInt64();

        var statuses = new List<string>();
        for (var i = 0; i < 3; i++) statuses.Add((await CheckAsync(tool, id)).GetProperty("instance").GetProperty("status").GetString()!);
        Assert.That(statuses, Is.EqualTo(new[] { "Degraded", "Degraded", "Off" }));
        Assert.That((await ToolAsync(tool)).GetProperty("status").GetString(), Is.EqualTo("Off"));

        using var up = new LoopbackServer();
        var patch = await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{id}", new { health_check = new { type = "tcp", target = up.HostAndPort } });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        var back = await CheckAsync(tool, id);
        Assert.That(back.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(back.GetProperty("instance").GetProperty("check_failures").GetInt64(), Is.Zero);

        using var db = _app.OpenDatabase();
        var history = db.Query<(string Old, string New)>(
            "SELECT coalesce(old_status, '') AS old, new_status AS new FROM status_history WHERE kind = 'instance' AND entity_id = @id ORDER BY id",
            new { id = id.ToString() }).Select(h => $"{h.Old}->{h.New}");
        Assert.That(history, Is.EqualTo(new[] { "->Ready", "Ready->Degraded", "Degraded->Off", "Off->Healthy" }));
    }

    [Test]
    public async Task ASlowAnswerIsDegradedAndOneSlowerThanTheTimeoutIsAFailure()
    {
        using var slow = new LoopbackServer(200, TimeSpan.FromMilliseconds(600));
        var tool = await CreateToolAsync();
        var patient = await CreateInstanceAsync(tool, new { type = "http", target = slow.Url, timeout_ms = 5000 });
        var impatient = await CreateInstanceAsync(tool, new { type = "http", target = slow.Url, timeout_ms = 200 });

        var slowRun = await CheckAsync(tool, patient.GetProperty("id").GetInt64());
        Assert.That(slowRun.GetProperty("result").GetProperty("ok").GetBoolean(), Is.True);
        Assert.That(slowRun.GetProperty("result").GetProperty("latency_ms").GetInt64(), Is.GreaterThanOrEqualTo(550), "the server waits 600 ms; timers may round a few ms short");
        Assert.That(slowRun.GetProperty("instance").GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(slowRun.GetProperty("instance").GetProperty("status_reason").GetString(), Does.StartWith("Slow"));

        var timedOut = await CheckAsync(tool, impatient.GetProperty("id").GetInt64());
        Assert.That(timedOut.GetProperty("result").GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(timedOut.GetProperty("result").GetProperty("error").GetString(), Does.Contain("200 ms"));
    }

    [Test]
    public async Task AToolTakesTheWorstOfItsActiveInstancesAndAnInactiveCheckedInstanceIsOff()
    {
        using var up = new LoopbackServer();
        var tool = await CreateToolAsync();
        var good = await CreateInstanceAsync(tool, new { type = "tcp", target = up.HostAndPort });
        var bad = await CreateInstanceAsync(tool, new { type = "http", target = up.Url, expect_status = 418 });
        await CheckAsync(tool, good.GetProperty("id").GetInt64());
        await CheckAsync(tool, bad.GetProperty("id").GetInt64());
        Assert.That((await ToolAsync(tool)).GetProperty("status").GetString(), Is.EqualTo("Degraded"));

        var badId = bad.GetProperty("id").GetInt64();
        var off = await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{badId}", new { is_active = false });
        var offBody = await off.JsonAsync();
        Assert.That(offBody.GetProperty("status").GetString(), Is.EqualTo("Off"));
        Assert.That(offBody.GetProperty("status_source").GetString(), Is.EqualTo("check"));
        Assert.That((await ToolAsync(tool)).GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        var refused = await Admin.PostAsync($"/api/tools/{tool}/instances/{badId}/check", null);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Test]
    public async Task RemovingTheLastCheckGivesTheStatusBackToTheAdmins()
    {
        using var up = new LoopbackServer();
        var tool = await CreateToolAsync();
        var instance = await CreateInstanceAsync(tool, new { type = "tcp", target = up.HostAndPort });
        var id = instance.GetProperty("id").GetInt64();
        await CheckAsync(tool, id);

        var removed = await Admin.PatchAsync($"/api/tools/{tool}/instances/{id}", Support.JsonBody("""{"health_check":null}"""));
        var body = await removed.JsonAsync();
        Assert.That(body.GetProperty("health_check").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(body.GetProperty("status_source").GetString(), Is.EqualTo("manual"));
        Assert.That((await ToolAsync(tool)).GetProperty("status_source").GetString(), Is.EqualTo("manual"));
        var refused = await Admin.PostAsync($"/api/tools/{tool}/instances/{id}/check", null);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [TestCase("""{"type":"ftp","target":"x"}""", "health_check.type")]
    [TestCase("""{"type":"http","target":"not a url"}""", "health_check.target")]
    [TestCase("""{"type":"http","target":"file:///etc/passwd"}""", "health_check.target")]
    [TestCase("""{"type":"tcp","target":"localhost"}""", "health_check.target")]
    [TestCase("""{"type":"tcp","target":"localhost:70000"}""", "health_check.target")]
    [TestCase("""{"type":"tcp","target":"localhost:80","expect_status":200}""", "health_check.expect_status")]
    [TestCase("""{"type":"http","target":"http://x/","interval_seconds":5}""", "health_check.interval_seconds")]
    [TestCase("""{"type":"http","target":"http://x/","interval_seconds":10,"timeout_ms":10000}""", "health_check.timeout_ms")]
    [TestCase("""{"type":"http","target":"http://x/","extra":1}""", "health_check.extra")]
    [TestCase("""{"target":"http://x/"}""", "health_check.type")]
    [TestCase("""[1]""", "health_check")]
    public async Task AnInvalidCheckIsRefusedFieldByFieldAndNothingIsWritten(string check, string field)
    {
        var tool = await CreateToolAsync();
        var response = await Admin.PostAsync($"/api/tools/{tool}/instances", Support.JsonBody($$"""{"name":"x","health_check":{{check}}}"""));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = @tool", new { tool }), Is.Zero);
    }

    [Test]
    public async Task OnlyAdminsRunACheckNow()
    {
        using var up = new LoopbackServer();
        var tool = await CreateToolAsync();
        var id = (await CreateInstanceAsync(tool, new { type = "tcp", target = up.HostAndPort })).GetProperty("id").GetInt64();
        var viewer = await _clients.Viewer.PostAsync($"/api/tools/{tool}/instances/{id}/check", null);
        Assert.That(viewer.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var missing = await Admin.PostAsync($"/api/tools/{tool}/instances/999999/check", null);
        await missing.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.That(up.Served, Is.Zero, "nothing was probed");
    }

    [Test]
    public async Task ACheckThatChangesAStatusIsInTheAuditLog()
    {
        var tool = await CreateToolAsync();
        var id = (await CreateInstanceAsync(tool, new { type = "tcp", target = $"127.0.0.1:{LoopbackServer.ClosedPort()}", timeout_ms = 1000 }))
            .GetProperty("id").GetInt64();
        await CheckAsync(tool, id);
        var page = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit?action=status.changed&target=instance:{id}");
        var item = page.GetProperty("items").EnumerateArray().Single();
        Assert.That(item.GetProperty("details").GetProperty("to").GetString(), Is.EqualTo("Degraded"));
        Assert.That(item.GetProperty("details").GetProperty("source").GetString(), Is.EqualTo("check"));
        var toolEvents = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit?action=status.changed&target=tool:{tool}");
        Assert.That(toolEvents.GetProperty("items").GetArrayLength(), Is.EqualTo(1));
    }
}
