namespace Sanctum.Api.Tests.Management;

/// <summary>/api/tools/{id}/instances, including the one-instance-per-agent rule of agent-scoped tools.</summary>
public class ToolInstancesApiTests : ManagementFixture
{
    private async Task<string> CreateToolAsync(string scope = "global")
    {
        var id = "i-" + Guid.NewGuid().ToString("N")[..10];
        var response = await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Tool " + id, category = "master", module_scope = scope });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return id;
    }

    private async Task<long> CreateInstanceAsync(string toolId, object body)
    {
        var response = await Admin.PostAsJsonAsync($"/api/tools/{toolId}/instances", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private long Count(string toolId)
    {
        using var db = _app.OpenDatabase();
        return db.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = @toolId", new { toolId });
    }

    [Test]
    public async Task AdminCreatesAnInstanceWithEveryField()
    {
        var tool = await CreateToolAsync();
        var response = await Admin.PostAsync($"/api/tools/{tool}/instances", Support.JsonBody("""
            {"agent_id":"monday","name":"Nightly","config":{"cron":"0 3 * * *"},"status":"Healthy",
             "last_run":"2026-01-02T03:04:05+01:00","next_run":"2026-01-03T03:00:00Z","is_active":false}
            """));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        var id = body.GetProperty("id").GetInt64();
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/tools/{tool}/instances/{id}"));
        Assert.That(body.GetProperty("tool_id").GetString(), Is.EqualTo(tool));
        Assert.That(body.GetProperty("config").GetProperty("cron").GetString(), Is.EqualTo("0 3 * * *"));
        Assert.That(body.GetProperty("last_run").GetString(), Is.EqualTo("2026-01-02T02:04:05Z"));
        Assert.That(body.GetProperty("created_by").GetInt64(), Is.EqualTo(1));

        using var db = _app.OpenDatabase();
        var row = db.QuerySingle("SELECT agent_id, name, config, status, last_run, next_run, is_active, created_by FROM tool_instances WHERE id = @id", new { id });
        Assert.That((string)row.agent_id, Is.EqualTo("monday"));
        Assert.That((string)row.name, Is.EqualTo("Nightly"));
        Assert.That(JsonDocument.Parse((string)row.config).RootElement.GetProperty("cron").GetString(), Is.EqualTo("0 3 * * *"));
        Assert.That((string)row.status, Is.EqualTo("Healthy"));
        Assert.That((string)row.last_run, Is.EqualTo("2026-01-02T02:04:05Z"));
        Assert.That((string)row.next_run, Is.EqualTo("2026-01-03T03:00:00Z"));
        Assert.That(Convert.ToInt64(row.is_active), Is.EqualTo(0));
        Assert.That((long)row.created_by, Is.EqualTo(1));
    }

    [Test]
    public async Task AGlobalToolTakesManyInstancesEvenForOneAgent()
    {
        var tool = await CreateToolAsync();
        await CreateInstanceAsync(tool, new { });
        await CreateInstanceAsync(tool, new { agent_id = "athena" });
        await CreateInstanceAsync(tool, new { agent_id = "athena" });
        Assert.That(Count(tool), Is.EqualTo(3));
    }

    [Test]
    public async Task ReadersListAndGetInstances()
    {
        var tool = await CreateToolAsync();
        var first = await CreateInstanceAsync(tool, new { name = "one" });
        var second = await CreateInstanceAsync(tool, new { name = "two" });

        var list = await _clients.Viewer.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}/instances");
        Assert.That(list.EnumerateArray().Select(i => i.GetProperty("id").GetInt64()), Is.EqualTo(new[] { first, second }));
        var one = await _clients.User.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}/instances/{second}");
        Assert.That(one.GetProperty("name").GetString(), Is.EqualTo("two"));
        Assert.That(one.GetProperty("status").GetString(), Is.EqualTo("Ready"));
        Assert.That(one.GetProperty("is_active").GetBoolean(), Is.True);
    }

    [Test]
    public async Task InstancesOfAMissingToolAre404()
    {
        await (await Admin.GetAsync("/api/tools/no-such-tool/instances")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/tools/no-such-tool/instances", "{}"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnInstanceOfAnotherToolIs404()
    {
        var tool = await CreateToolAsync();
        var other = await CreateToolAsync();
        var id = await CreateInstanceAsync(tool, new { });
        await (await Admin.GetAsync($"/api/tools/{other}/instances/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"/api/tools/{tool}/instances/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"/api/tools/{tool}/instances/not-a-number")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("PATCH", $"/api/tools/{other}/instances/{id}", """{"name":"x"}"""), HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", $"/api/tools/{other}/instances/{id}"), HttpStatusCode.NotFound);
    }

    [TestCase("""{"agent_id":"ghost"}""", "agent_id")]
    [TestCase("""{"agent_id":"Not A Slug"}""", "agent_id")]
    [TestCase("""{"status":"Running"}""", "status")]
    [TestCase("""{"config":"text"}""", "config")]
    [TestCase("""{"config":[1,2]}""", "config")]
    [TestCase("""{"last_run":"yesterday"}""", "last_run")]
    [TestCase("""{"is_active":"no"}""", "is_active")]
    public async Task CreateRefusesInvalidFields(string json, string field)
    {
        var tool = await CreateToolAsync();
        await _app.AssertInvalidAsync(Admin, new Call("POST", $"/api/tools/{tool}/instances", json), field);
    }

    [Test]
    public async Task CreateRefusesAnOverlongName()
    {
        var tool = await CreateToolAsync();
        await _app.AssertInvalidAsync(Admin, new Call("POST", $"/api/tools/{tool}/instances", $$"""{"name":"{{new string('n', 101)}}"}"""), "name");
    }

    [Test]
    public async Task AnAgentScopedInstanceMustNameItsAgent()
    {
        var tool = await CreateToolAsync("agent");
        await _app.AssertInvalidAsync(Admin, new Call("POST", $"/api/tools/{tool}/instances", """{"name":"nobody's"}"""), "agent_id");
    }

    [Test]
    public async Task AnAgentScopedToolHasOneInstancePerAgent()
    {
        var tool = await CreateToolAsync("agent");
        await CreateInstanceAsync(tool, new { agent_id = "athena" });
        await CreateInstanceAsync(tool, new { agent_id = "monday" });

        var body = await _app.AssertRefusedAsync(Admin, new Call("POST", $"/api/tools/{tool}/instances", """{"agent_id":"athena"}"""), HttpStatusCode.Conflict);
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("athena"));
        Assert.That(Count(tool), Is.EqualTo(2));
    }

    [Test]
    public async Task MovingAnAgentScopedInstanceOntoATakenAgentIs409()
    {
        var tool = await CreateToolAsync("agent");
        await CreateInstanceAsync(tool, new { agent_id = "athena" });
        var monday = await CreateInstanceAsync(tool, new { agent_id = "monday" });

        await _app.AssertRefusedAsync(Admin, new Call("PATCH", $"/api/tools/{tool}/instances/{monday}", """{"agent_id":"athena"}"""), HttpStatusCode.Conflict);

        var sameAgent = await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{monday}", new { agent_id = "monday", name = "renamed" });
        Assert.That(sameAgent.StatusCode, Is.EqualTo(HttpStatusCode.OK), "re-sending its own agent is no clash");
        var moved = await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{monday}", new { agent_id = "timbre" });
        Assert.That(moved.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT agent_id FROM tool_instances WHERE id = @monday", new { monday }), Is.EqualTo("timbre"));
    }

    [Test]
    public async Task ConcurrentInstancesForOneAgentGiveOne201AndOnly409s()
    {
        var tool = await CreateToolAsync("agent");
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { agent_id = "timbre" })));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(7), string.Join(",", statuses));
        Assert.That(Count(tool), Is.EqualTo(1));
    }

    [Test]
    public async Task TheDatabaseTriggerBacksTheRuleUp()
    {
        // The API checks first; the migration's trigger refuses what slips past it, as a UNIQUE error.
        var tool = await CreateToolAsync("agent");
        await CreateInstanceAsync(tool, new { agent_id = "athena" });
        using var db = _app.OpenDatabase();
        var error = Assert.Catch<System.Data.Common.DbException>(() => db.Execute("INSERT INTO tool_instances (tool_id, agent_id) VALUES (@tool, 'athena')", new { tool }));
        Assert.That(error!.Message, Does.Contain("UNIQUE constraint failed"));
    }

    [Test]
    public async Task PatchChangesOnlyTheFieldsSent()
    {
        var tool = await CreateToolAsync();
        var id = await CreateInstanceAsync(tool, new { agent_id = "athena", name = "keep", config = new { a = 1 } });

        var response = await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{id}", new { status = "Off", next_run = "2027-05-06T07:08:09Z" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        using var db = _app.OpenDatabase();
        var row = db.QuerySingle("SELECT agent_id, name, config, status, next_run FROM tool_instances WHERE id = @id", new { id });
        Assert.That((string)row.status, Is.EqualTo("Off"));
        Assert.That((string)row.next_run, Is.EqualTo("2027-05-06T07:08:09Z"));
        Assert.That((string)row.name, Is.EqualTo("keep"));
        Assert.That((string)row.agent_id, Is.EqualTo("athena"));
        Assert.That((string)row.config, Is.EqualTo("""{"a":1}"""));
    }

    [TestCase("""{"status":"Sleeping"}""", "status")]
    [TestCase("""{"agent_id":"ghost"}""", "agent_id")]
    [TestCase("""{"config":42}""", "config")]
    public async Task PatchRefusesInvalidFields(string json, string field)
    {
        var tool = await CreateToolAsync();
        var id = await CreateInstanceAsync(tool, new { });
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/tools/{tool}/instances/{id}", json), field);
    }

    [Test]
    public async Task AdminDeletesAnInstanceAndThenTheTool()
    {
        var tool = await CreateToolAsync();
        var id = await CreateInstanceAsync(tool, new { });
        Assert.That((await Admin.DeleteAsync($"/api/tools/{tool}")).StatusCode, Is.EqualTo(HttpStatusCode.Conflict));

        Assert.That((await Admin.DeleteAsync($"/api/tools/{tool}/instances/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Count(tool), Is.EqualTo(0));
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", $"/api/tools/{tool}/instances/{id}"), HttpStatusCode.NotFound);
        Assert.That((await Admin.DeleteAsync($"/api/tools/{tool}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
    }

    private long _matrixInstance;

    private async Task<long> MatrixInstanceAsync()
    {
        if (_matrixInstance == 0)
        {
            using var db = _app.OpenDatabase();
            _matrixInstance = db.QuerySingle<long>("INSERT INTO tool_instances (tool_id, name) VALUES ('cron-scheduler', 'matrix') RETURNING id");
        }
        return await Task.FromResult(_matrixInstance);
    }

    public static IEnumerable<string> Roles() => ["anonymous", "viewer", "user"];

    [TestCaseSource(nameof(Roles))]
    public async Task OnlyAdminsWriteInstances(string role)
    {
        var id = await MatrixInstanceAsync();
        var expected = role == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
        var client = _clients.For(role);
        await _app.AssertRefusedAsync(client, new Call("POST", "/api/tools/cron-scheduler/instances", """{"name":"x"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("PATCH", $"/api/tools/cron-scheduler/instances/{id}", """{"name":"x"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("DELETE", $"/api/tools/cron-scheduler/instances/{id}"), expected);
    }

    [Test]
    public async Task AnonymousCannotReadInstances()
    {
        var id = await MatrixInstanceAsync();
        await (await _clients.Anonymous.GetAsync("/api/tools/cron-scheduler/instances")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await _clients.Anonymous.GetAsync($"/api/tools/cron-scheduler/instances/{id}")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
