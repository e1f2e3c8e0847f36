namespace Sanctum.Api.Tests.Management;

/// <summary>POST, PUT, PATCH and DELETE /api/tools.</summary>
public class ToolWritesApiTests : ManagementFixture
{
    private static string NewId() => "t-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<string> CreateToolAsync(string? id = null, string scope = "global")
    {
        id ??= NewId();
        var response = await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Tool " + id, category = "master", module_scope = scope });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return id;
    }

    private JsonElement Row(string id)
    {
        using var db = _app.OpenDatabase();
        var row = db.QuerySingleOrDefault<string>($"SELECT {(TestEngine.IsPostgres ? "json_build_object" : "json_object")}('name', name, 'description', description, 'emoji', emoji, 'category', category, 'status', status, 'route_path', route_path, 'is_enabled', CAST(is_enabled AS INTEGER), 'module_scope', module_scope, 'config_schema', config_schema, 'created_by', created_by) FROM tools WHERE id = @id", new { id });
        return row is null ? default : JsonDocument.Parse(row).RootElement;
    }

    [Test]
    public async Task AdminCreatesToolWithEveryField()
    {
        var id = NewId();
        var response = await Admin.PostAsync("/api/tools", Support.JsonBody($$$"""
            {"id":"{{{id}}}","name":"Log Shipper","description":"Ships logs","emoji":"📦","category":"athena","status":"Ready",
             "route_path":"/log-shipper","is_enabled":false,"module_scope":"agent","config_schema":{"type":"object"}}
            """));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/tools/{id}"));
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("id").GetString(), Is.EqualTo(id));
        Assert.That(body.GetProperty("emoji").GetString(), Is.EqualTo("📦"));
        Assert.That(body.GetProperty("is_enabled").GetBoolean(), Is.False);
        Assert.That(body.GetProperty("module_scope").GetString(), Is.EqualTo("agent"));
        Assert.That(body.GetProperty("config_schema").GetProperty("type").GetString(), Is.EqualTo("object"));
        Assert.That(body.GetProperty("created_by").GetInt64(), Is.EqualTo(1));

        var row = Row(id);
        Assert.That(row.GetProperty("name").GetString(), Is.EqualTo("Log Shipper"));
        Assert.That(row.GetProperty("category").GetString(), Is.EqualTo("athena"));
        Assert.That(row.GetProperty("status").GetString(), Is.EqualTo("Ready"));
        Assert.That(row.GetProperty("route_path").GetString(), Is.EqualTo("/log-shipper"));
        Assert.That(row.GetProperty("is_enabled").GetInt32(), Is.EqualTo(0));
        Assert.That(JsonDocument.Parse(row.GetProperty("config_schema").GetString()!).RootElement.GetProperty("type").GetString(), Is.EqualTo("object"));
        Assert.That(row.GetProperty("created_by").GetInt64(), Is.EqualTo(1));
    }

    [Test]
    public async Task CreateFillsTheDefaults()
    {
        var id = NewId();
        var response = await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Minimal", category = "smcp" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(body.GetProperty("is_enabled").GetBoolean(), Is.True);
        Assert.That(body.GetProperty("module_scope").GetString(), Is.EqualTo("global"));
        Assert.That(body.GetProperty("route_path").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(Row(id).GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(Row(id).GetProperty("module_scope").GetString(), Is.EqualTo("global"));
    }

    [Test]
    public async Task CreatedToolShowsInItsCategoryTab()
    {
        var id = NewId();
        await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Monday helper", category = "monday" });
        var tools = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/tools?category=monday");
        Assert.That(tools.EnumerateArray().Select(t => t.GetProperty("id").GetString()), Does.Contain(id));
    }

    public static IEnumerable<TestCaseData> InvalidCreates()
    {
        TestCaseData Case(string json, string field, string name) => new TestCaseData(json, field).SetName("CreateRefuses" + name);
        yield return Case("""{"name":"x","category":"master"}""", "id", "AMissingId");
        yield return Case("""{"id":"Bad_Id","name":"x","category":"master"}""", "id", "AnIdThatIsNotASlug");
        yield return Case("""{"id":"-dash-first","name":"x","category":"master"}""", "id", "AnIdStartingWithADash");
        yield return Case($$"""{"id":"{{new string('a', 51)}}","name":"x","category":"master"}""", "id", "AnIdOf51Characters");
        yield return Case("{\"id\":\"trailing-newline\\n\",\"name\":\"x\",\"category\":\"master\"}", "id", "AnIdWithATrailingNewline");
        yield return Case("""{"id":"ok-id-1","category":"master"}""", "name", "AMissingName");
        yield return Case("""{"id":"ok-id-1","name":"   ","category":"master"}""", "name", "ABlankName");
        yield return Case($$"""{"id":"ok-id-1","name":"{{new string('n', 101)}}","category":"master"}""", "name", "AnOverlongName");
        yield return Case($$"""{"id":"ok-id-1","name":"x","category":"master","description":"{{new string('d', 1001)}}"}""", "description", "AnOverlongDescription");
        yield return Case($$"""{"id":"ok-id-1","name":"x","category":"master","emoji":"{{new string('e', 33)}}"}""", "emoji", "AnOverlongEmoji");
        yield return Case("""{"id":"ok-id-1","name":"x"}""", "category", "AMissingCategory");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"nowhere"}""", "category", "ACategoryThatIsNoAgent");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"Master"}""", "category", "ACategoryInTheWrongCase");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","status":"healthy"}""", "status", "AnUnknownStatus");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","route_path":"no-slash"}""", "route_path", "ARoutePathWithoutASlash");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","route_path":"//evil.example"}""", "route_path", "AProtocolRelativeRoutePath");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","route_path":"/a b"}""", "route_path", "ARoutePathWithASpace");
        // Issue 23 item 2: dot segments that a browser resolves to another site.
        foreach (var (path, name) in new[] { ("/.//evil.example/", "DotSlash"), ("/%2e//evil.example/", "EncodedDot"), ("/a/..//evil.example/", "DotDot"),
                     ("/.%2f/evil.example/", "EncodedSlash"), ("/x/%2E%2E/", "EncodedDotDot"), ("/a/.", "TrailingDot"), ("/%5cevil.example", "EncodedBackslash") })
            yield return Case($$"""{"id":"ok-id-1","name":"x","category":"master","route_path":"{{path}}"}""", "route_path", "ARoutePathWith" + name);
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","module_scope":"local"}""", "module_scope", "AnUnknownModuleScope");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","config_schema":[1]}""", "config_schema", "AConfigSchemaThatIsNoObject");
        yield return Case("""{"id":"ok-id-1","name":"x","category":"master","is_enabled":"yes"}""", "is_enabled", "AWrongTypedField");
    }

    [TestCaseSource(nameof(InvalidCreates))]
    public Task CreateRefusesInvalidFields(string json, string field) =>
        _app.AssertInvalidAsync(Admin, new Call("POST", "/api/tools", json), field);

    // The shape of every field (the wire type's attributes) is checked first, all at once; then what the operation needs.
    [Test]
    public async Task CreateReportsEveryMalformedFieldAtOnce() =>
        await _app.AssertInvalidAsync(Admin, new Call("POST", "/api/tools", """{"id":"X","name":" ","status":"nope","route_path":"x"}"""), "id", "name", "status", "route_path");

    [Test]
    public async Task CreateReportsEveryMissingFieldAtOnce() =>
        await _app.AssertInvalidAsync(Admin, new Call("POST", "/api/tools", """{"status":"Off"}"""), "id", "name", "category");

    [Test]
    public Task CreateRefusesMalformedJson() =>
        _app.AssertRefusedAsync(Admin, new Call("POST", "/api/tools", "{\"id\":\"broken\","), HttpStatusCode.BadRequest);

    [Test]
    public async Task CreateWithATakenIdIs409()
    {
        var body = await _app.AssertRefusedAsync(Admin,
            new Call("POST", "/api/tools", """{"id":"system-settings","name":"Again","category":"master"}"""), HttpStatusCode.Conflict);
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("system-settings"));
        Assert.That(Row("system-settings").GetProperty("name").GetString(), Is.EqualTo("System Settings"));
    }

    [Test]
    public async Task ConcurrentCreatesOfOneIdGiveOne201AndOnly409s()
    {
        var id = NewId();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Admin.PostAsJsonAsync("/api/tools", new { id, name = "Race", category = "master" })));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(7), string.Join(",", statuses));
    }

    [Test]
    public async Task PutReplacesEveryFieldAndResetsTheAbsentOnes()
    {
        var id = NewId();
        await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Old", description = "old text", emoji = "🧪", category = "master", status = "Off", is_enabled = false });

        var response = await Admin.PutAsJsonAsync($"/api/tools/{id}", new { name = "New", category = "timbre", route_path = "/new" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("name").GetString(), Is.EqualTo("New"));
        Assert.That(body.GetProperty("description").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var row = Row(id);
        Assert.That(row.GetProperty("name").GetString(), Is.EqualTo("New"));
        Assert.That(row.GetProperty("description").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(row.GetProperty("emoji").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(row.GetProperty("category").GetString(), Is.EqualTo("timbre"));
        Assert.That(row.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(row.GetProperty("is_enabled").GetInt32(), Is.EqualTo(1));
        Assert.That(row.GetProperty("route_path").GetString(), Is.EqualTo("/new"));
    }

    [Test]
    public async Task PutCannotChangeTheId()
    {
        var id = await CreateToolAsync();
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/tools/{id}", """{"id":"other-id","name":"x","category":"master"}"""), "id");
    }

    [Test]
    public async Task PutRequiresNameAndCategory()
    {
        var id = await CreateToolAsync();
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/tools/{id}", """{"description":"only this"}"""), "name", "category");
    }

    [Test]
    public Task PutOfAMissingToolIs404() =>
        _app.AssertRefusedAsync(Admin, new Call("PUT", "/api/tools/no-such-tool", """{"name":"x","category":"master"}"""), HttpStatusCode.NotFound);

    [Test]
    public async Task PatchChangesOnlyTheFieldsSent()
    {
        var id = NewId();
        await Admin.PostAsJsonAsync("/api/tools", new { id, name = "Keep", description = "kept", category = "master", route_path = "/keep" });

        var response = await Admin.PatchAsJsonAsync($"/api/tools/{id}", new { status = "Degraded", is_enabled = false });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await response.JsonAsync()).GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        var row = Row(id);
        Assert.That(row.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(row.GetProperty("is_enabled").GetInt32(), Is.EqualTo(0));
        Assert.That(row.GetProperty("name").GetString(), Is.EqualTo("Keep"));
        Assert.That(row.GetProperty("description").GetString(), Is.EqualTo("kept"));
        Assert.That(row.GetProperty("route_path").GetString(), Is.EqualTo("/keep"));
    }

    [Test]
    public async Task PatchUpdatesUpdatedAt()
    {
        var id = await CreateToolAsync();
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE tools SET updated_at = '2000-01-01T00:00:00Z' WHERE id = @id", new { id });
        await Admin.PatchAsJsonAsync($"/api/tools/{id}", new { name = "Renamed" });
        Assert.That(string.CompareOrdinal((await Admin.GetFromJsonAsync<JsonElement>($"/api/tools/{id}")).GetProperty("updated_at").GetString(), "2000-01-01T00:00:00Z"), Is.GreaterThan(0));
    }

    [TestCase("""{"status":"Broken"}""", "status")]
    [TestCase("""{"name":""}""", "name")]
    [TestCase("""{"category":"ghost"}""", "category")]
    [TestCase("""{"route_path":"relative"}""", "route_path")]
    [TestCase("""{"module_scope":"everywhere"}""", "module_scope")]
    [TestCase("""{"id":"renamed"}""", "id")]
    public async Task PatchRefusesInvalidFields(string json, string field)
    {
        var id = await CreateToolAsync();
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/tools/{id}", json), field);
    }

    [Test]
    public Task PatchOfAMissingToolIs404() =>
        _app.AssertRefusedAsync(Admin, new Call("PATCH", "/api/tools/no-such-tool", """{"name":"x"}"""), HttpStatusCode.NotFound);

    [Test]
    public async Task ToolWithTwoInstancesForOneAgentCannotBecomeAgentScoped()
    {
        var id = await CreateToolAsync();
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO tool_instances (tool_id, agent_id, name) VALUES (@id, 'athena', 'a'), (@id, 'athena', 'b')", new { id });

        await _app.AssertRefusedAsync(Admin, new Call("PATCH", $"/api/tools/{id}", """{"module_scope":"agent"}"""), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(Admin, new Call("PUT", $"/api/tools/{id}", """{"name":"x","category":"master","module_scope":"agent"}"""), HttpStatusCode.Conflict);
        Assert.That(Row(id).GetProperty("module_scope").GetString(), Is.EqualTo("global"));
    }

    [Test]
    public async Task ToolWithOneInstancePerAgentBecomesAgentScoped()
    {
        var id = await CreateToolAsync();
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO tool_instances (tool_id, agent_id) VALUES (@id, 'athena'), (@id, 'monday'), (@id, NULL), (@id, NULL)", new { id });
        var response = await Admin.PatchAsJsonAsync($"/api/tools/{id}", new { module_scope = "agent" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(Row(id).GetProperty("module_scope").GetString(), Is.EqualTo("agent"));
    }

    [Test]
    public async Task AdminDeletesATool()
    {
        var id = await CreateToolAsync();
        var response = await Admin.DeleteAsync($"/api/tools/{id}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row(id).ValueKind, Is.EqualTo(JsonValueKind.Undefined));
        Assert.That((await Admin.GetAsync($"/api/tools/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public Task DeletingAMissingToolIs404() =>
        _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/tools/no-such-tool"), HttpStatusCode.NotFound);

    [Test]
    public async Task DeletingAToolWithInstancesIs409()
    {
        var id = await CreateToolAsync();
        using (var db = _app.OpenDatabase()) db.Execute("INSERT INTO tool_instances (tool_id) VALUES (@id)", new { id });
        var body = await _app.AssertRefusedAsync(Admin, new Call("DELETE", $"/api/tools/{id}"), HttpStatusCode.Conflict);
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("instances"));
    }

    [Test]
    public async Task DeletingAToolWithPluginsIs409()
    {
        var id = await CreateToolAsync();
        using (var db = _app.OpenDatabase()) db.Execute("INSERT INTO plugins (tool_id, name) VALUES (@id, 'p1')", new { id });
        var body = await _app.AssertRefusedAsync(Admin, new Call("DELETE", $"/api/tools/{id}"), HttpStatusCode.Conflict);
        Assert.That(body.GetProperty("detail").GetString(), Does.Contain("plugins"));
    }

    public static IEnumerable<Call> Writes() =>
    [
        new("POST", "/api/tools", """{"id":"matrix-tool","name":"x","category":"master"}"""),
        new("PUT", "/api/tools/system-settings", """{"name":"x","category":"master"}"""),
        new("PATCH", "/api/tools/system-settings", """{"status":"Off"}"""),
        new("DELETE", "/api/tools/backup-restore"),
    ];

    [TestCaseSource(nameof(Writes))]
    public Task AnonymousCannotWriteTools(Call call) => _app.AssertRefusedAsync(_clients.Anonymous, call, HttpStatusCode.Unauthorized);

    [TestCaseSource(nameof(Writes))]
    public Task ViewerCannotWriteTools(Call call) => _app.AssertRefusedAsync(_clients.Viewer, call, HttpStatusCode.Forbidden);

    [TestCaseSource(nameof(Writes))]
    public Task UserCannotWriteTools(Call call) => _app.AssertRefusedAsync(_clients.User, call, HttpStatusCode.Forbidden);
}
