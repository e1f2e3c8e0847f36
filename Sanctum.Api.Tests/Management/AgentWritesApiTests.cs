namespace Sanctum.Api.Tests.Management;

/// <summary>POST, PATCH and DELETE /api/agents, and who sees an agent afterwards.</summary>
public class AgentWritesApiTests : ManagementFixture
{
    private static string NewId() => "a-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<string> CreateAgentAsync(object? extra = null)
    {
        var id = NewId();
        var body = new Dictionary<string, object?> { ["id"] = id, ["name"] = "Agent " + id };
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        var response = await Admin.PostAsJsonAsync("/api/agents", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return id;
    }

    private dynamic? Row(string id)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault("SELECT name, display_name, description, status, is_active, visible_to_users, visible_to_roles, created_by FROM agents WHERE id = @id", new { id });
    }

    private static async Task<long> IdOfAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/auth/me")).GetProperty("id").GetInt64();

    [Test]
    public async Task AdminCreatesAnAgentFromTheFormsFields()
    {
        var id = NewId();
        var userId = await IdOfAsync(_clients.User);
        var response = await Admin.PostAsync("/api/agents", Support.JsonBody($$"""
            {"id":"{{id}}","name":"Hermes","display_name":"Hermes Prime","description":"Messenger","status":"Ready",
             "visible_to_users":[{{userId}}],"visible_to_roles":["user","admin"]}
            """));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/agents/{id}"));
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("display_name").GetString(), Is.EqualTo("Hermes Prime"));
        Assert.That(body.GetProperty("is_active").GetBoolean(), Is.True);
        Assert.That(body.GetProperty("visible_to_roles").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "user", "admin" }));
        Assert.That(body.GetProperty("visible_to_users")[0].GetInt64(), Is.EqualTo(userId));

        var row = Row(id)!;
        Assert.That((string)row.name, Is.EqualTo("Hermes"));
        Assert.That((string)row.description, Is.EqualTo("Messenger"));
        Assert.That((string)row.status, Is.EqualTo("Ready"));
        Assert.That(Convert.ToInt64(row.is_active), Is.EqualTo(1));
        Assert.That((string)row.visible_to_roles, Is.EqualTo("""["user","admin"]"""));
        Assert.That((string)row.visible_to_users, Is.EqualTo($"[{userId}]"));
        Assert.That((long)row.created_by, Is.EqualTo(1));
    }

    [Test]
    public async Task ANewAgentIsVisibleToEveryoneAndBecomesAToolCategory()
    {
        var id = await CreateAgentAsync();
        var row = Row(id)!;
        Assert.That((string)row.status, Is.EqualTo("Off"), "no relay has polled a new agent");
        Assert.That((object?)row.visible_to_roles, Is.Null);
        Assert.That((object?)row.visible_to_users, Is.Null);

        var agents = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/agents");
        Assert.That(agents.EnumerateArray().Select(a => a.GetProperty("id").GetString()), Does.Contain(id));
        var tool = await Admin.PostAsJsonAsync("/api/tools", new { id = "tool-of-" + id, name = "Its tool", category = id });
        Assert.That(tool.StatusCode, Is.EqualTo(HttpStatusCode.Created), await tool.Content.ReadAsStringAsync());
    }

    public static IEnumerable<TestCaseData> InvalidCreates()
    {
        TestCaseData Case(string json, string field, string name) => new TestCaseData(json, field).SetName("CreateAgentRefuses" + name);
        yield return Case("""{"name":"x"}""", "id", "AMissingId");
        yield return Case("""{"id":"Has Spaces","name":"x"}""", "id", "AnIdThatIsNoSlug");
        yield return Case($$"""{"id":"{{new string('a', 51)}}","name":"x"}""", "id", "AnIdOf51Characters");
        yield return Case("""{"id":"master","name":"x"}""", "id", "TheMasterCategoryAsId");
        yield return Case("""{"id":"smcp","name":"x"}""", "id", "TheSmcpCategoryAsId");
        yield return Case("""{"id":"fine-id"}""", "name", "AMissingName");
        yield return Case($$"""{"id":"fine-id","name":"{{new string('n', 101)}}"}""", "name", "AnOverlongName");
        yield return Case($$"""{"id":"fine-id","name":"x","display_name":"{{new string('n', 101)}}"}""", "display_name", "AnOverlongDisplayName");
        yield return Case($$"""{"id":"fine-id","name":"x","description":"{{new string('d', 1001)}}"}""", "description", "AnOverlongDescription");
        yield return Case("""{"id":"fine-id","name":"x","status":"Sleepy"}""", "status", "AnUnknownStatus");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_roles":["root"]}""", "visible_to_roles", "AnUnknownRole");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_roles":"user"}""", "visible_to_roles", "RolesThatAreNoArray");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_users":["1"]}""", "visible_to_users", "UserIdsAsStrings");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_users":[1.5]}""", "visible_to_users", "FractionalUserIds");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_users":[987654]}""", "visible_to_users", "AnUnknownUserId");
        yield return Case("""{"id":"fine-id","name":"x","visible_to_users":{"a":1}}""", "visible_to_users", "UsersThatAreNoArray");
        yield return Case("""{"id":"fine-id","name":"x","is_active":"yes"}""", "is_active", "AWrongTypedField");
    }

    [TestCaseSource(nameof(InvalidCreates))]
    public Task CreateRefusesInvalidFields(string json, string field) =>
        _app.AssertInvalidAsync(Admin, new Call("POST", "/api/agents", json), field);

    [Test]
    public Task CreateWithATakenIdIs409() =>
        _app.AssertRefusedAsync(Admin, new Call("POST", "/api/agents", """{"id":"athena","name":"Another Athena"}"""), HttpStatusCode.Conflict);

    [Test]
    public async Task PatchChangesOnlyTheFieldsSent()
    {
        var id = await CreateAgentAsync(new { description = "kept", visible_to_roles = new[] { "admin" } });

        var response = await Admin.PatchAsJsonAsync($"/api/agents/{id}", new { display_name = "Shown Name", status = "Degraded" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await response.JsonAsync()).GetProperty("display_name").GetString(), Is.EqualTo("Shown Name"));
        var row = Row(id)!;
        Assert.That((string)row.display_name, Is.EqualTo("Shown Name"));
        Assert.That((string)row.status, Is.EqualTo("Degraded"));
        Assert.That((string)row.description, Is.EqualTo("kept"));
        Assert.That((string)row.visible_to_roles, Is.EqualTo("""["admin"]"""), "absent visibility stays as it was");
    }

    [Test]
    public async Task VisibilityDecidesWhoSeesTheAgent()
    {
        var id = await CreateAgentAsync();
        var viewerId = await IdOfAsync(_clients.Viewer);

        var hidden = await Admin.PatchAsJsonAsync($"/api/agents/{id}", new { visible_to_roles = new[] { "user" } });
        Assert.That(hidden.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row(id)!.visible_to_roles, Is.EqualTo("""["user"]"""));
        Assert.That((await _clients.Viewer.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _clients.User.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        await Admin.PatchAsJsonAsync($"/api/agents/{id}", new { visible_to_roles = new[] { "viewer" }, visible_to_users = new[] { viewerId } });
        Assert.That((await _clients.Viewer.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _clients.User.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        var everyone = await Admin.PatchAsync($"/api/agents/{id}", Support.JsonBody("""{"visible_to_roles":null,"visible_to_users":null}"""));
        Assert.That(everyone.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var row = Row(id)!;
        Assert.That((object?)row.visible_to_roles, Is.Null, "an explicit null means every role");
        Assert.That((object?)row.visible_to_users, Is.Null);
        Assert.That((await _clients.User.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task VisibilityListsAreStoredWithoutRepeats()
    {
        var id = await CreateAgentAsync(new { visible_to_roles = new[] { "user", "user", "viewer" } });
        Assert.That((string)Row(id)!.visible_to_roles, Is.EqualTo("""["user","viewer"]"""));
    }

    [TestCase("""{"status":"Gone"}""", "status")]
    [TestCase("""{"name":" "}""", "name")]
    [TestCase("""{"visible_to_roles":["owner"]}""", "visible_to_roles")]
    [TestCase("""{"visible_to_users":[0]}""", "visible_to_users")]
    [TestCase("""{"id":"another-id"}""", "id")]
    public async Task PatchRefusesInvalidFields(string json, string field)
    {
        var id = await CreateAgentAsync();
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/agents/{id}", json), field);
    }

    [Test]
    public Task PatchOfAMissingAgentIs404() =>
        _app.AssertRefusedAsync(Admin, new Call("PATCH", "/api/agents/no-such-agent", """{"name":"x"}"""), HttpStatusCode.NotFound);

    [Test]
    public async Task DeleteDeactivatesAndKeepsTheRow()
    {
        var id = await CreateAgentAsync();

        var response = await Admin.DeleteAsync($"/api/agents/{id}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Convert.ToInt64(Row(id)!.is_active), Is.EqualTo(0));
        Assert.That((await _clients.Viewer.GetAsync($"/api/agents/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var list = await _clients.User.GetFromJsonAsync<JsonElement>("/api/agents");
        Assert.That(list.EnumerateArray().Select(a => a.GetProperty("id").GetString()), Does.Not.Contain(id));
        var asAdmin = await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/{id}");
        Assert.That(asAdmin.GetProperty("is_active").GetBoolean(), Is.False);

        var back = await Admin.PatchAsJsonAsync($"/api/agents/{id}", new { is_active = true });
        Assert.That(back.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Convert.ToInt64(Row(id)!.is_active), Is.EqualTo(1));
    }

    [Test]
    public Task DeletingAMissingAgentIs404() =>
        _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/agents/no-such-agent"), HttpStatusCode.NotFound);

    public static IEnumerable<Call> Writes() =>
    [
        new("POST", "/api/agents", """{"id":"matrix-agent","name":"x"}"""),
        new("PATCH", "/api/agents/monday", """{"name":"x"}"""),
        new("DELETE", "/api/agents/timbre"),
    ];

    [TestCaseSource(nameof(Writes))]
    public Task AnonymousCannotWriteAgents(Call call) => _app.AssertRefusedAsync(_clients.Anonymous, call, HttpStatusCode.Unauthorized);

    [TestCaseSource(nameof(Writes))]
    public Task ViewerCannotWriteAgents(Call call) => _app.AssertRefusedAsync(_clients.Viewer, call, HttpStatusCode.Forbidden);

    [TestCaseSource(nameof(Writes))]
    public Task UserCannotWriteAgents(Call call) => _app.AssertRefusedAsync(_clients.User, call, HttpStatusCode.Forbidden);
}
