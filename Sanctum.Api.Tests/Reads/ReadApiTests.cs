namespace Sanctum.Api.Tests.Reads;

/// <summary>The read endpoints the pages need. One application for the fixture; tests that change rows put them back.</summary>
public class ReadApiTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;
    private HttpClient _viewer = null!;
    private HttpClient _user = null!;

    [OneTimeSetUp]
    public async Task StartOnce()
    {
        _app = new SanctumApplication();
        _admin = await _app.CreateAdminClientAsync();
        _viewer = await _app.CreateClientForRoleAsync("viewer", "reader-viewer");
        _user = await _app.CreateClientForRoleAsync("user", "reader-user");
        // No relay polls here: the agents' statuses are typed by hand (kept until a relay polls), as the tests below change them.
        Sql("UPDATE agents SET status = 'Healthy', status_source = 'manual', status_reason = NULL");
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    private void Sql(string sql) { using var db = _app.OpenDatabase(); db.Execute(sql); }

    [TestCase("/api/tools")]
    [TestCase("/api/tools/categories")]
    [TestCase("/api/tools/broca")]
    [TestCase("/api/agents")]
    [TestCase("/api/agents/athena")]
    [TestCase("/api/status")]
    [TestCase("/api/auth/me")]
    public async Task AnonymousCallsAre401Problems(string path)
    {
        var response = await _app.CreateClient().GetAsync(path);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Does.Contain("Bearer"));
    }

    [TestCase("/api/tools")]
    [TestCase("/api/tools/categories")]
    [TestCase("/api/tools/broca")]
    [TestCase("/api/agents")]
    [TestCase("/api/agents/athena")]
    [TestCase("/api/status")]
    public async Task EveryRoleMayRead(string path)
    {
        foreach (var client in new[] { _viewer, _user, _admin })
            Assert.That((await client.GetAsync(path)).StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
    }

    [Test]
    public async Task ToolsListsTheEightSeededToolsByCategoryThenName()
    {
        var response = await _viewer.GetAsync("/api/tools");
        var text = await response.Content.ReadAsStringAsync();
        var tools = JsonDocument.Parse(text).RootElement.EnumerateArray().ToList();

        Assert.That(tools.Select(t => t.GetProperty("id").GetString()), Is.EqualTo(new[]
        {
            "broca", "chat-settings", "backup-restore", "create-agent", "cron-scheduler", "install-tool", "system-settings", "smcp",
        }));
        var broca = tools[0];
        Assert.That(broca.GetProperty("emoji").GetString(), Is.EqualTo("\U0001F6F0\uFE0F"));
        Assert.That(broca.GetProperty("route_path").GetString(), Is.EqualTo("/broca-settings"));
        Assert.That(broca.GetProperty("is_enabled").GetBoolean(), Is.True);
        Assert.That(broca.GetProperty("created_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"));
        Assert.That(text, Does.Contain("🛰️"), "emoji travel as UTF-8, not as escapes");
    }

    [Test]
    public async Task ToolsFilterByCategory()
    {
        var athena = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools?category=athena");
        var master = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools?category=master");
        var smcp = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools?category=smcp");

        Assert.That(athena.GetArrayLength(), Is.EqualTo(2));
        Assert.That(master.GetArrayLength(), Is.EqualTo(5));
        Assert.That(smcp.EnumerateArray().Select(t => t.GetProperty("id").GetString()), Is.EqualTo(new[] { "smcp" }));
    }

    [Test]
    public async Task ToolsFilterByEnabled()
    {
        Sql("UPDATE tools SET is_enabled = FALSE WHERE id = 'backup-restore'");
        try
        {
            var enabled = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools?enabled=true");
            var disabled = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools?enabled=false");
            Assert.That(enabled.GetArrayLength(), Is.EqualTo(7));
            Assert.That(disabled.EnumerateArray().Select(t => t.GetProperty("id").GetString()), Is.EqualTo(new[] { "backup-restore" }));
        }
        finally { Sql("UPDATE tools SET is_enabled = TRUE WHERE id = 'backup-restore'"); }
    }

    [Test]
    public async Task ANonBooleanEnabledFilterIsA400Problem()
    {
        await (await _viewer.GetAsync("/api/tools?enabled=maybe")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task CategoriesCountTheTools()
    {
        var categories = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools/categories");
        var counts = categories.EnumerateArray().ToDictionary(c => c.GetProperty("category").GetString()!, c => c.GetProperty("count").GetInt32());
        Assert.That(counts, Is.EqualTo(new Dictionary<string, int> { ["athena"] = 2, ["master"] = 5, ["smcp"] = 1 }));
    }

    [Test]
    public async Task OneToolOrA404Problem()
    {
        var tool = await _viewer.GetFromJsonAsync<JsonElement>("/api/tools/system-settings");
        Assert.That(tool.GetProperty("emoji").GetString(), Is.EqualTo("\u2699\uFE0F"));
        Assert.That(tool.GetProperty("name").GetString(), Is.EqualTo("System Settings"));

        var missing = await (await _viewer.GetAsync("/api/tools/no-such-tool")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.That(missing.GetProperty("detail").GetString(), Does.Contain("no-such-tool"));
    }

    [Test]
    public async Task AgentsListsTheThreeSeededAgents()
    {
        var agents = await _viewer.GetFromJsonAsync<JsonElement>("/api/agents");
        Assert.That(agents.EnumerateArray().Select(a => a.GetProperty("display_name").GetString()), Is.EqualTo(new[] { "Athena Prime", "Monday Prime", "Timbre Prime" }));
    }

    [Test]
    public async Task AgentVisibilityFollowsRolesAndUsersAndAdminsSeeAll()
    {
        using (var db = _app.OpenDatabase())
        {
            var viewerId = db.QuerySingle<long>("SELECT id FROM users WHERE username = 'reader-viewer'");
            db.Execute("UPDATE agents SET visible_to_roles = '[\"admin\"]' WHERE id = 'monday'");
            db.Execute("UPDATE agents SET visible_to_users = @ids WHERE id = 'timbre'", new { ids = $"[{viewerId}]" });
        }
        try
        {
            static async Task<string[]> Ids(HttpClient c) =>
                (await c.GetFromJsonAsync<JsonElement>("/api/agents")).EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToArray();

            Assert.That(await Ids(_viewer), Is.EqualTo(new[] { "athena", "timbre" }));
            Assert.That(await Ids(_user), Is.EqualTo(new[] { "athena" }));
            Assert.That(await Ids(_admin), Is.EqualTo(new[] { "athena", "monday", "timbre" }));
            await (await _user.GetAsync("/api/agents/timbre")).AssertProblemAsync(HttpStatusCode.NotFound);
            Assert.That((await _viewer.GetAsync("/api/agents/timbre")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        finally { Sql("UPDATE agents SET visible_to_roles = NULL, visible_to_users = NULL"); }
    }

    [Test]
    public async Task InactiveAgentsAreHiddenExceptFromAdminsWhoAskForThem()
    {
        Sql("UPDATE agents SET is_active = FALSE WHERE id = 'monday'");
        try
        {
            var viewerList = await _viewer.GetFromJsonAsync<JsonElement>("/api/agents");
            var adminList = await _admin.GetFromJsonAsync<JsonElement>("/api/agents");
            var adminAll = await _admin.GetFromJsonAsync<JsonElement>("/api/agents?include_inactive=true");
            var viewerAll = await _viewer.GetFromJsonAsync<JsonElement>("/api/agents?include_inactive=true");

            Assert.That(viewerList.GetArrayLength(), Is.EqualTo(2));
            Assert.That(adminList.GetArrayLength(), Is.EqualTo(2));
            Assert.That(adminAll.GetArrayLength(), Is.EqualTo(3));
            Assert.That(viewerAll.GetArrayLength(), Is.EqualTo(2));
            await (await _viewer.GetAsync("/api/agents/monday")).AssertProblemAsync(HttpStatusCode.NotFound);
            Assert.That((await _admin.GetAsync("/api/agents/monday")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        finally { Sql("UPDATE agents SET is_active = TRUE WHERE id = 'monday'"); }
    }

    [Test]
    public async Task StatusIsHealthyWhenEveryToolAndAgentIsWithCountsFromTheDatabase()
    {
        var status = await _viewer.GetFromJsonAsync<JsonElement>("/api/status");

        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(status.GetProperty("version").GetString(), Is.Not.Empty);
        Assert.That(status.GetProperty("timestamp").GetString(), Does.Match(@"Z$"));
        Assert.That(status.GetProperty("database").GetProperty("schema_version").GetInt32(), Is.EqualTo(4));
        var tools = status.GetProperty("tools");
        Assert.That(tools.GetProperty("total").GetInt32(), Is.EqualTo(8));
        Assert.That(tools.GetProperty("enabled").GetInt32(), Is.EqualTo(8));
        Assert.That(tools.GetProperty("by_status").GetProperty("Healthy").GetInt32(), Is.EqualTo(5));
        Assert.That(tools.GetProperty("by_status").GetProperty("Ready").GetInt32(), Is.EqualTo(3));
        Assert.That(status.GetProperty("agents").GetProperty("active").GetInt32(), Is.EqualTo(3));
        Assert.That(status.GetProperty("attention").GetArrayLength(), Is.EqualTo(0));
    }

    [Test]
    public async Task StatusFollowsAToolStatusChangeInTheDatabase()
    {
        Sql("UPDATE tools SET status = 'Degraded' WHERE id = 'broca'; UPDATE agents SET status = 'Off' WHERE id = 'timbre'");
        try
        {
            var status = await _viewer.GetFromJsonAsync<JsonElement>("/api/status");

            Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
            Assert.That(status.GetProperty("tools").GetProperty("by_status").GetProperty("Degraded").GetInt32(), Is.EqualTo(1));
            Assert.That(status.GetProperty("agents").GetProperty("by_status").GetProperty("Off").GetInt32(), Is.EqualTo(1));
            var attention = status.GetProperty("attention").EnumerateArray()
                .Select(a => $"{a.GetProperty("kind").GetString()}:{a.GetProperty("id").GetString()}:{a.GetProperty("status").GetString()}");
            Assert.That(attention, Is.EqualTo(new[] { "tool:broca:Degraded", "agent:timbre:Off" }));
        }
        finally { Sql("UPDATE tools SET status = 'Healthy' WHERE id = 'broca'; UPDATE agents SET status = 'Healthy' WHERE id = 'timbre'"); }
    }

    [Test]
    public async Task ADisabledToolDoesNotNeedAttention()
    {
        Sql("UPDATE tools SET status = 'Off', is_enabled = FALSE WHERE id = 'install-tool'");
        try
        {
            var status = await _viewer.GetFromJsonAsync<JsonElement>("/api/status");
            Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Healthy"));
            Assert.That(status.GetProperty("tools").GetProperty("enabled").GetInt32(), Is.EqualTo(7));
        }
        finally { Sql("UPDATE tools SET status = 'Healthy', is_enabled = TRUE WHERE id = 'install-tool'"); }
    }

    [Test]
    public async Task UnknownApiRoutesAre404ProblemsAndWrongMethods405()
    {
        await (await _admin.GetAsync("/api/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PutAsync("/api/status", Support.JsonBody("{}"))).AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
    }
}

public class HealthTests
{
    [Test]
    public async Task HealthzAndReadyzAnswerWithoutSignIn()
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();

        Assert.That((await client.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var ready = await client.GetAsync("/readyz");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ready.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }

    [Test]
    public async Task ReadyzIs503WhenAMigrationIsMissing()
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();
        using (var db = app.OpenDatabase()) db.Execute("DELETE FROM \"VersionInfo\" WHERE \"Version\" = 4");

        Assert.That((await client.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That((await client.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
