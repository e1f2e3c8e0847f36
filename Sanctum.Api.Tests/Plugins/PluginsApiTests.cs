namespace Sanctum.Api.Tests.Plugins;

public class PluginsApiTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication();
        _admin = await _app.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    /// <summary>A fresh tool for one test, so tests do not see each other's plugins.</summary>
    private string NewTool(string moduleScope = "global")
    {
        var id = $"tool-{Guid.NewGuid():N}"[..20];
        using var db = _app.OpenDatabase();
        db.Execute("INSERT INTO tools (id, name, category, module_scope) VALUES (@id, @id, 'master', @moduleScope)", new { id, moduleScope });
        return id;
    }

    private async Task<JsonElement> CreateAsync(string tool, object body)
    {
        var response = await _admin.PostAsJsonAsync($"/api/tools/{tool}/plugins", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private List<(string Name, string Dependencies)> Rows(string tool)
    {
        using var db = _app.OpenDatabase();
        return db.Query<(string, string)>("SELECT name, dependencies FROM plugins WHERE tool_id = @tool ORDER BY name", new { tool }).ToList();
    }

    [Test]
    public async Task AdminCreatesAPluginThatInheritsTheToolsModuleScope()
    {
        var tool = NewTool(moduleScope: "agent");
        var response = await _admin.PostAsJsonAsync($"/api/tools/{tool}/plugins",
            new { name = "web-chat", version = "1.2.0", status = "Active", config = new { port = 8080 } });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var body = await response.JsonAsync();
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/tools/{tool}/plugins/{body.GetProperty("id").GetInt64()}"));
        Assert.That(body.GetProperty("tool_id").GetString(), Is.EqualTo(tool));
        Assert.That(body.GetProperty("name").GetString(), Is.EqualTo("web-chat"));
        Assert.That(body.GetProperty("module_scope").GetString(), Is.EqualTo("agent"));
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("Active"));
        Assert.That(body.GetProperty("config").GetProperty("port").GetInt32(), Is.EqualTo(8080));
        Assert.That(body.GetProperty("dependencies").GetArrayLength(), Is.EqualTo(0));
        Assert.That(body.GetProperty("is_enabled").GetBoolean(), Is.True);

        using var db = _app.OpenDatabase();
        var row = db.QuerySingle<(string Version, string Status, string Config, string Dependencies, long? CreatedBy)>(
            "SELECT version, status, config, dependencies, created_by FROM plugins WHERE tool_id = @tool", new { tool });
        Assert.That(row.Version, Is.EqualTo("1.2.0"));
        Assert.That(row.Status, Is.EqualTo("Active"));
        Assert.That(JsonDocument.Parse(row.Config).RootElement.GetProperty("port").GetInt32(), Is.EqualTo(8080));
        Assert.That(row.Dependencies, Is.EqualTo("[]"));
        Assert.That(row.CreatedBy, Is.EqualTo(1));

        // The scope follows the tool's when the tool changes.
        db.Execute("UPDATE tools SET module_scope = 'global' WHERE id = @tool", new { tool });
        var again = await _admin.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}/plugins/{body.GetProperty("id").GetInt64()}");
        Assert.That(again.GetProperty("module_scope").GetString(), Is.EqualTo("global"));
    }

    [Test]
    public async Task ListReturnsTheToolsPluginsByNameToAnyReader()
    {
        var tool = NewTool();
        await CreateAsync(tool, new { name = "zeta" });
        await CreateAsync(tool, new { name = "alpha" });
        await CreateAsync(NewTool(), new { name = "elsewhere" });

        var viewer = await _app.CreateClientForRoleAsync("viewer");
        var response = await viewer.GetAsync($"/api/tools/{tool}/plugins");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var names = (await response.JsonAsync()).EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.EqualTo(new[] { "alpha", "zeta" }));
    }

    [Test]
    public async Task PluginsOfAnUnknownToolAre404()
    {
        await (await _admin.GetAsync("/api/tools/no-such-tool/plugins")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PostAsJsonAsync("/api/tools/no-such-tool/plugins", new { name = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.GetAsync($"/api/tools/{NewTool()}/plugins/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ViewerAndUserCannotWritePlugins()
    {
        var tool = NewTool();
        var plugin = await CreateAsync(tool, new { name = "keep" });
        var id = plugin.GetProperty("id").GetInt64();
        foreach (var role in new[] { "viewer", "user" })
        {
            var client = await _app.CreateClientForRoleAsync(role);
            Assert.That((await client.PostAsJsonAsync($"/api/tools/{tool}/plugins", new { name = "new" })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That((await client.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{id}", new { status = "Error" })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That((await client.DeleteAsync($"/api/tools/{tool}/plugins/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        }
        Assert.That(Rows(tool).Select(r => r.Name), Is.EqualTo(new[] { "keep" }));
    }

    [Test]
    public async Task ANameIsUniquePerToolOnly()
    {
        var tool = NewTool();
        await CreateAsync(tool, new { name = "telegram" });
        await (await _admin.PostAsJsonAsync($"/api/tools/{tool}/plugins", new { name = "telegram" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.That(Rows(tool), Has.Count.EqualTo(1));

        var other = NewTool();
        await CreateAsync(other, new { name = "telegram" });
        Assert.That(Rows(other), Has.Count.EqualTo(1));
    }

    [TestCase("""{"name":"x","status":"Running"}""", "status")]
    [TestCase("""{"name":"x","config":[1,2]}""", "config")]
    [TestCase("""{"name":"x","config":"text"}""", "config")]
    [TestCase("""{"name":"   "}""", "name")]
    [TestCase("""{"name":" padded"}""", "name")]
    [TestCase("""{"version":"1"}""", "name")]
    [TestCase("""{"name":"x","dependencies":"a"}""", "dependencies")]
    [TestCase("""{"name":"x","dependencies":[1]}""", "dependencies")]
    [TestCase("""{"name":"x","dependencies":[""]}""", "dependencies")]
    public async Task InvalidPluginFieldsAre400AndNothingIsWritten(string json, string field)
    {
        var tool = NewTool();
        var problem = await (await _admin.PostAsync($"/api/tools/{tool}/plugins", Support.JsonBody(json))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
        Assert.That(Rows(tool), Is.Empty);
    }

    [Test]
    public async Task DependenciesMustNamePluginsOfTheSameTool()
    {
        var tool = NewTool();
        var other = NewTool();
        await CreateAsync(tool, new { name = "core" });
        await CreateAsync(other, new { name = "foreign" });

        var response = await _admin.PostAsJsonAsync($"/api/tools/{tool}/plugins", new { name = "extra", dependencies = new[] { "core", "foreign" } });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("dependencies")[0].GetString(), Does.Contain("'foreign' is not a plugin of tool"));
        Assert.That(Rows(tool).Select(r => r.Name), Is.EqualTo(new[] { "core" }));

        var ok = await CreateAsync(tool, new { name = "extra", dependencies = new[] { "core" } });
        Assert.That(ok.GetProperty("dependencies").EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "core" }));
        Assert.That(Rows(tool).Single(r => r.Name == "extra").Dependencies, Is.EqualTo("""["core"]"""));
    }

    [Test]
    public async Task APluginCannotDependOnItself()
    {
        var tool = NewTool();
        var created = await (await _admin.PostAsJsonAsync($"/api/tools/{tool}/plugins", new { name = "loop", dependencies = new[] { "loop" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(created.GetProperty("errors").GetProperty("dependencies")[0].GetString(), Does.Contain("itself"));

        var plugin = await CreateAsync(tool, new { name = "loop" });
        var patched = await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{plugin.GetProperty("id").GetInt64()}", new { dependencies = new[] { "loop" } });
        await patched.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(Rows(tool).Single().Dependencies, Is.EqualTo("[]"));
    }

    [Test]
    public async Task APatchThatClosesATwoPluginCycleIsRefused()
    {
        var tool = NewTool();
        var a = await CreateAsync(tool, new { name = "a" });
        await CreateAsync(tool, new { name = "b", dependencies = new[] { "a" } });

        var response = await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{a.GetProperty("id").GetInt64()}", new { dependencies = new[] { "b" } });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("dependencies")[0].GetString(), Does.Contain("cycle").And.Contain("a → b → a"));
        Assert.That(Rows(tool).Single(r => r.Name == "a").Dependencies, Is.EqualTo("[]"));
    }

    [Test]
    public async Task APatchThatClosesALongerCycleIsRefusedAndNothingChanges()
    {
        var tool = NewTool();
        var a = await CreateAsync(tool, new { name = "a" });
        await CreateAsync(tool, new { name = "c" });
        await CreateAsync(tool, new { name = "b", dependencies = new[] { "c" } });
        (await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{a.GetProperty("id").GetInt64()}", new { dependencies = new[] { "b" } }))
            .EnsureSuccessStatusCode();
        var c = (await _admin.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}/plugins")).EnumerateArray().Single(p => p.GetProperty("name").GetString() == "c");
        var before = Rows(tool);

        // a → b → c already; c → a would close a → b → c → a.
        var response = await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{c.GetProperty("id").GetInt64()}",
            new { dependencies = new[] { "a" }, status = "Active" });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("dependencies")[0].GetString(), Does.Contain("c → a → b → c"));

        Assert.That(Rows(tool), Is.EqualTo(before));
        using var db = _app.OpenDatabase();
        Assert.That(db.QuerySingle<string>("SELECT status FROM plugins WHERE tool_id = @tool AND name = 'c'", new { tool }), Is.EqualTo("Inactive"));
    }

    [Test]
    public async Task SharedDependenciesWithoutACycleAreAccepted()
    {
        var tool = NewTool();
        await CreateAsync(tool, new { name = "d" });
        await CreateAsync(tool, new { name = "b", dependencies = new[] { "d" } });
        await CreateAsync(tool, new { name = "c", dependencies = new[] { "d" } });
        var a = await CreateAsync(tool, new { name = "a", dependencies = new[] { "b", "c", "d" } });
        Assert.That(a.GetProperty("dependencies").GetArrayLength(), Is.EqualTo(3));
        Assert.That(Rows(tool), Has.Count.EqualTo(4));
    }

    [Test]
    public async Task PatchChangesOnlyTheFieldsSent()
    {
        var tool = NewTool();
        await CreateAsync(tool, new { name = "base" });
        var plugin = await CreateAsync(tool, new { name = "addon", version = "1.0", config = new { a = 1 }, dependencies = new[] { "base" } });
        var id = plugin.GetProperty("id").GetInt64();

        var response = await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{id}", new { status = "Error", is_enabled = false });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("Error"));
        Assert.That(body.GetProperty("is_enabled").GetBoolean(), Is.False);
        Assert.That(body.GetProperty("version").GetString(), Is.EqualTo("1.0"));
        Assert.That(body.GetProperty("config").GetProperty("a").GetInt32(), Is.EqualTo(1));

        using var db = _app.OpenDatabase();
        var row = db.QuerySingle<(string Status, long IsEnabled, string Dependencies, string Config)>(
            "SELECT status, CAST(is_enabled AS INTEGER), dependencies, config FROM plugins WHERE id = @id", new { id });
        Assert.That(row, Is.EqualTo(("Error", 0L, """["base"]""", """{"a":1}""")));
    }

    [Test]
    public async Task RenamingAPluginOthersDependOnIs409()
    {
        var tool = NewTool();
        var core = await CreateAsync(tool, new { name = "core" });
        await CreateAsync(tool, new { name = "ui", dependencies = new[] { "core" } });
        await (await _admin.PatchAsJsonAsync($"/api/tools/{tool}/plugins/{core.GetProperty("id").GetInt64()}", new { name = "kernel" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.That(Rows(tool).Select(r => r.Name), Is.EqualTo(new[] { "core", "ui" }));
    }

    [Test]
    public async Task DeletingAPluginAnotherDependsOnIs409UntilTheDependentIsGone()
    {
        var tool = NewTool();
        var core = await CreateAsync(tool, new { name = "core" });
        var ui = await CreateAsync(tool, new { name = "ui", dependencies = new[] { "core" } });

        var refused = await (await _admin.DeleteAsync($"/api/tools/{tool}/plugins/{core.GetProperty("id").GetInt64()}")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.That(refused.GetProperty("detail").GetString(), Does.Contain("'ui'"));
        Assert.That(Rows(tool), Has.Count.EqualTo(2));

        Assert.That((await _admin.DeleteAsync($"/api/tools/{tool}/plugins/{ui.GetProperty("id").GetInt64()}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await _admin.DeleteAsync($"/api/tools/{tool}/plugins/{core.GetProperty("id").GetInt64()}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Rows(tool), Is.Empty);
        await (await _admin.DeleteAsync($"/api/tools/{tool}/plugins/{core.GetProperty("id").GetInt64()}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task APluginIsReachableOnlyThroughItsOwnTool()
    {
        var tool = NewTool();
        var plugin = await CreateAsync(tool, new { name = "mine" });
        var id = plugin.GetProperty("id").GetInt64();
        var other = NewTool();
        await (await _admin.GetAsync($"/api/tools/{other}/plugins/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PatchAsJsonAsync($"/api/tools/{other}/plugins/{id}", new { status = "Error" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.DeleteAsync($"/api/tools/{other}/plugins/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.That(Rows(tool), Has.Count.EqualTo(1));
    }
}
