using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Broca;

/// <summary>
/// Operating an agent's Broca (/api/agents/{id}/broca/..., /api/broca/users) against real Broca folders and databases,
/// with a separate sqlite3 process holding Broca's write lock where the busy case is proved.
/// </summary>
public class BrocaApiTests : ManagementFixture
{
    private readonly List<BrocaFolder> _folders = [];

    [TearDown]
    public void RemoveFolders()
    {
        foreach (var folder in _folders) folder.Dispose();
        _folders.Clear();
    }

    private BrocaFolder NewFolder(bool database = true, bool settings = true)
    {
        var folder = new BrocaFolder(database, settings);
        _folders.Add(folder);
        return folder;
    }

    /// <summary>A new agent whose Broca instance points at a new folder.</summary>
    private async Task<(string Agent, BrocaFolder Folder, long Instance)> AgentWithBrocaAsync(BrocaFolder? folder = null)
    {
        folder ??= NewFolder();
        var agent = "b-" + Guid.NewGuid().ToString("N")[..8];
        using (var db = _app.OpenDatabase()) db.Execute("INSERT INTO agents (id, name) VALUES (@agent, @agent)", new { agent });
        var response = await Admin.PostAsJsonAsync("/api/tools/broca/instances", new { agent_id = agent, name = "Broca", config = new { home = folder.Home } });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (agent, folder, (await response.JsonAsync()).GetProperty("id").GetInt64());
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, object? body = null, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return request;
    }

    // ---- 1. home ----

    [Test]
    public async Task TheInstanceHomeMustBeAFolderHoldingABroca()
    {
        var empty = Path.Combine(Path.GetTempPath(), "sanctum-broca-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        try
        {
            foreach (var config in new object?[] { null, new { home = "" }, new { home = "relative/path" }, new { home = empty + "-missing" }, new { home = empty } })
                await _app.AssertInvalidAsync(Admin, new Call("POST", "/api/tools/broca/instances",
                    JsonSerializer.Serialize(new { agent_id = "athena", config })), "config/home");
        }
        finally { Directory.Delete(empty); }

        var (_, folder, instance) = await AgentWithBrocaAsync(NewFolder(database: false));
        Assert.That(File.Exists(folder.DatabasePath), Is.False, "settings.json alone is a Broca");
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/tools/broca/instances/{instance}",
            JsonSerializer.Serialize(new { config = new { home = "/nonexistent/broca" } })), "config/home");
        var schema = (await Admin.GetFromJsonAsync<JsonElement>("/api/tools/broca")).GetProperty("config_schema");
        Assert.That(schema.GetProperty("required")[0].GetString(), Is.EqualTo("home"));
    }

    // ---- 2. settings.json and .env ----

    [Test]
    public async Task SettingsAreTypedMergedWrittenAtomicallyAndRecorded()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        File.SetUnixFileMode(folder.SettingsPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var url = $"/api/agents/{agent}/broca/settings";

        var read = await _clients.Viewer.GetAsync(url);
        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var etag = read.Headers.ETag!.Tag;
        Assert.That((await read.JsonAsync()).GetProperty("message_mode").GetString(), Is.EqualTo("live"));

        var before = File.ReadAllText(folder.SettingsPath);
        var invalid = await Admin.SendAsync(Request(HttpMethod.Patch, url,
            new { message_mode = "shout", queue_refresh = 0, max_retries = 101, debug_mode = "yes" }, etag));
        var problem = await invalid.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name),
            Is.EquivalentTo(new[] { "message_mode", "queue_refresh", "max_retries", "debug_mode" }));
        await (await _clients.User.SendAsync(Request(HttpMethod.Patch, url, new { queue_refresh = 10 }))).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(File.ReadAllText(folder.SettingsPath), Is.EqualTo(before));

        var patched = await Admin.SendAsync(Request(HttpMethod.Patch, url, new { queue_refresh = 10, message_mode = "listen" }, etag));
        Assert.That(patched.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patched.Content.ReadAsStringAsync());
        var file = JsonDocument.Parse(File.ReadAllText(folder.SettingsPath)).RootElement;
        Assert.That(file.GetProperty("queue_refresh").GetInt32(), Is.EqualTo(10));
        Assert.That(file.GetProperty("message_mode").GetString(), Is.EqualTo("listen"));
        Assert.That(file.GetProperty("plugin_extra").GetRawText(), Does.Contain("keep"), "an unknown key is kept");
        Assert.That(File.GetUnixFileMode(folder.SettingsPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite), "permissions kept");
        Assert.That(Directory.GetFiles(folder.Home, "*.tmp"), Is.Empty);

        // The old ETag is stale now; so is a fresh one once Broca's file changes on disk.
        await (await Admin.SendAsync(Request(HttpMethod.Patch, url, new { max_retries = 5 }, etag))).AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        var fresh = patched.Headers.ETag!.Tag;
        File.WriteAllText(folder.SettingsPath, File.ReadAllText(folder.SettingsPath).Replace("\"listen\"", "\"echo\""));
        var onDisk = File.ReadAllText(folder.SettingsPath);
        await (await Admin.SendAsync(Request(HttpMethod.Put, url, new { message_mode = "live" }, fresh))).AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.That(File.ReadAllText(folder.SettingsPath), Is.EqualTo(onDisk), "a 412 never overwrites");

        var history = await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/{agent}/broca/history?file=settings");
        var refresh = history.EnumerateArray().Single(c => c.GetProperty("key").GetString() == "queue_refresh");
        Assert.That(refresh.GetProperty("old_value").GetInt32(), Is.EqualTo(5));
        Assert.That(refresh.GetProperty("new_value").GetInt32(), Is.EqualTo(10));
        await _app.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'broca.settings.changed' AND target_id = @agent", new { agent }), Is.EqualTo(1));
    }

    [Test]
    public async Task EnvKeepsItsLinesMasksSecretsAndKeepsThemWhenTheMaskComesBack()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        var url = $"/api/agents/{agent}/broca/env";
        var shown = await _clients.Viewer.GetFromJsonAsync<JsonElement>(url);
        Assert.That(shown.GetProperty("AGENT_API_KEY").GetString(), Is.EqualTo("********"));
        Assert.That(shown.GetProperty("TELEGRAM_BOT_TOKEN").GetString(), Is.EqualTo("********"));
        Assert.That(shown.GetProperty("TELEGRAM_API_HASH").GetString(), Is.EqualTo("********"));
        Assert.That(shown.GetProperty("AGENT_ID").GetString(), Is.EqualTo("agent-123"));
        Assert.That(shown.GetProperty("SOMETHING_ELSE").GetString(), Is.EqualTo("kept"));
        await (await _clients.Viewer.GetAsync(url + "?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var revealed = await Admin.GetFromJsonAsync<JsonElement>(url + "?reveal=true");
        Assert.That(revealed.GetProperty("TELEGRAM_BOT_TOKEN").GetString(), Is.EqualTo("123:abc def"));

        var before = File.ReadAllText(folder.EnvPath);
        var invalid = await Admin.SendAsync(Request(HttpMethod.Patch, url, new Dictionary<string, object> { ["QUEUE_REFRESH"] = "0", ["BAD-NAME"] = "x", ["MESSAGE_MODE"] = "loud" }));
        var problem = await invalid.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { "QUEUE_REFRESH", "BAD-NAME", "MESSAGE_MODE" }));
        Assert.That(File.ReadAllText(folder.EnvPath), Is.EqualTo(before));

        var patched = await Admin.SendAsync(Request(HttpMethod.Patch, url, new Dictionary<string, object?>
        {
            ["AGENT_ID"] = "agent-456", ["AGENT_API_KEY"] = "********", ["TELEGRAM_BOT_TOKEN"] = "new token", ["NEW_ONE"] = "added", ["QUEUE_REFRESH"] = "7",
        }));
        Assert.That(patched.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patched.Content.ReadAsStringAsync());
        var text = File.ReadAllText(folder.EnvPath);
        Assert.That(text, Does.Contain("# Broca 2 environment\nAGENT_ID=agent-456\n"), "comments and order kept");
        Assert.That(text, Does.Contain("AGENT_API_KEY=sk-live-secret"), "the mask kept the secret");
        Assert.That(text, Does.Contain("TELEGRAM_BOT_TOKEN=\"new token\""));
        Assert.That(text, Does.Contain("this line is not a variable"));
        Assert.That(text, Does.Contain("SOMETHING_ELSE=kept # inline comment"), "an untouched line stays byte for byte");
        Assert.That(text, Does.EndWith("NEW_ONE=added\nQUEUE_REFRESH=7\n").Or.Contain("NEW_ONE=added"));

        var history = await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/{agent}/broca/history?file=env");
        var token = history.EnumerateArray().Single(c => c.GetProperty("key").GetString() == "TELEGRAM_BOT_TOKEN");
        Assert.That(token.GetProperty("new_value").GetString(), Is.EqualTo("changed"), "a secret's history never shows it");
        using var db = _app.OpenDatabase();
        var stored = db.QuerySingle<string>("SELECT new_value FROM setting_history WHERE store = 'broca_env' AND scope_id = @agent AND key = 'TELEGRAM_BOT_TOKEN'", new { agent });
        Assert.That(stored, Does.Not.Contain("new token"), "stored encrypted");
    }

    // ---- 3. queue ----

    [Test]
    public async Task StatsAreReusedWhileTheDatabaseIsUnchangedAndFollowEveryWriteAtOnce()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        var profile = folder.AddUser("telegram", "2002", "bea");
        folder.AddQueue("pending", 2, profile);
        var url = $"/api/agents/{agent}/broca/queue/stats";
        async Task<long> PendingAsync() => (await _clients.Viewer.GetFromJsonAsync<JsonElement>(url)).GetProperty("counts").GetProperty("pending").GetInt64();

        Assert.That(await PendingAsync(), Is.EqualTo(2));
        // Broca's own writes, from another connection, in its rollback-journal mode and then in WAL mode (with the
        // connection a running Broca keeps open, so the log stays): each is seen by the very next read, however soon (the
        // cache compares SQLite's change counter and WAL header, not file times).
        for (var round = 0; round < 5; round++)
        {
            folder.AddQueue("pending", 1, profile);
            Assert.That(await PendingAsync(), Is.EqualTo(3 + round));
        }
        using var running = folder.Open();
        running.Execute("PRAGMA journal_mode = WAL");
        running.Execute("SELECT COUNT(*) FROM queue");
        for (var round = 0; round < 5; round++)
        {
            folder.AddQueue("pending", 1, profile);
            Assert.That(await PendingAsync(), Is.EqualTo(8 + round));
        }
        // And a write through the panel.
        await Admin.PostAsync($"/api/agents/{agent}/broca/queue/flush", null);
        Assert.That(await PendingAsync(), Is.Zero);
    }

    [Test]
    public async Task QueueListsStatsRetriesFlushesAndDeletes()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        var profile = folder.AddUser("telegram", "1001", "alice", "Alice A");
        var pending = folder.AddQueue("pending", 5, profile, "2026-12-06 11:00:00");
        var failed = folder.AddQueue("failed", 3, profile);
        var processing = folder.AddQueue("processing", 1, profile);
        var url = $"/api/agents/{agent}/broca/queue";

        var page = await _clients.Viewer.GetFromJsonAsync<JsonElement>(url + "?status=pending&limit=2");
        Assert.That(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()), Is.EqualTo(new[] { pending[4], pending[3] }));
        Assert.That(page.GetProperty("items")[0].GetProperty("username").GetString(), Is.EqualTo("alice"));
        Assert.That(page.GetProperty("items")[0].GetProperty("message").GetString(), Is.EqualTo("pending 4"));
        var next = await _clients.Viewer.GetFromJsonAsync<JsonElement>(url + $"?status=pending&limit=2&cursor={page.GetProperty("next_cursor").GetInt64()}");
        Assert.That(next.GetProperty("items")[0].GetProperty("id").GetInt64(), Is.EqualTo(pending[2]));

        var stats = await _clients.Viewer.GetFromJsonAsync<JsonElement>(url + "/stats");
        Assert.That(stats.GetProperty("counts").GetProperty("pending").GetInt64(), Is.EqualTo(5));
        Assert.That(stats.GetProperty("counts").GetProperty("failed").GetInt64(), Is.EqualTo(3));
        Assert.That(stats.GetProperty("oldest_pending_at").GetString(), Is.EqualTo("2026-12-06 11:00:00"));

        await (await _clients.User.PostAsync(url + "/flush", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await Admin.PostAsync(url + $"/{pending[0]}/retry", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.DeleteAsync(url + $"/{processing[0]}")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.DeleteAsync(url + "/999999")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.That((await (await Admin.PostAsync(url + $"/{failed[0]}/retry", null)).JsonAsync()).GetProperty("changed").GetInt64(), Is.EqualTo(1));
        var retried = await (await Admin.PostAsync(url + "/retry-failed", null)).JsonAsync();
        Assert.That(retried.GetProperty("changed").GetInt64(), Is.EqualTo(2));
        var flushed = await (await Admin.PostAsync(url + "/flush", null)).JsonAsync();
        Assert.That(flushed.GetProperty("changed").GetInt64(), Is.EqualTo(8));
        Assert.That(flushed.GetProperty("complete").GetBoolean(), Is.True);
        Assert.That((await Admin.DeleteAsync(url + $"/{pending[0]}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(folder.StatusCounts(), Is.EquivalentTo(new Dictionary<string, long> { ["flushed"] = 7, ["processing"] = 1 }));

        await _app.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = _app.OpenDatabase();
        var details = db.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'broca.queue.flushed' AND target_id = @agent", new { agent });
        Assert.That(details, Does.Contain("\"count\":8"));
    }

    [Test]
    public async Task AFlushInBatchesTouchesOnlyPendingItemsThatExistedWhenItStarted()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:Broca:BatchSize"] = "7" });
        var admin = await app.CreateAdminClientAsync();
        var folder = NewFolder();
        using (var db = app.OpenDatabase()) db.Execute("INSERT INTO tool_instances (tool_id, agent_id, name, config) VALUES ('broca', 'monday', 'b', @config)",
            new { config = JsonSerializer.Serialize(new { home = folder.Home }) });
        var profile = folder.AddUser("telegram", "1", "bob");
        folder.AddQueue("pending", 30, profile);
        folder.AddQueue("done", 4, profile);
        var flushed = await (await admin.PostAsync("/api/agents/monday/broca/queue/flush", null)).JsonAsync();
        Assert.That(flushed.GetProperty("changed").GetInt64(), Is.EqualTo(30));
        Assert.That(flushed.GetProperty("batches").GetInt64(), Is.EqualTo(5));
        Assert.That(folder.StatusCounts(), Is.EquivalentTo(new Dictionary<string, long> { ["flushed"] = 30, ["done"] = 4 }));
    }

    [Test]
    public async Task AWriteThatCannotGetBrocasLockIsA503AndChangesNothing()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        var profile = folder.AddUser("telegram", "2002", "carol");
        var failed = folder.AddQueue("failed", 4, profile);
        folder.AddQueue("pending", 6, profile);
        var url = $"/api/agents/{agent}/broca/queue";
        var before = folder.StatusCounts();
        var sanctum = _app.Fingerprint();

        using (await BrocaWriterProcess.HoldAsync(folder.DatabasePath))
        {
            foreach (var (method, path) in new[] { ("POST", "/flush"), ("POST", "/retry-failed"), ("POST", $"/{failed[0]}/retry"), ("DELETE", $"/{failed[1]}") })
            {
                var response = await Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), url + path));
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.That(response.Headers.RetryAfter, Is.Not.Null, $"{method} {path}");
            }
            var active = await Admin.PatchAsJsonAsync($"/api/broca/users/{agent}/{profile}", new { is_active = false });
            await active.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            // Reads go on while Broca writes.
            Assert.That((await Admin.GetAsync(url + "/stats")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        Assert.That(folder.StatusCounts(), Is.EquivalentTo(before), "nothing half-changed");
        Assert.That(_app.Fingerprint(), Is.EqualTo(sanctum));
        Assert.That((await (await Admin.PostAsync(url + "/flush", null)).JsonAsync()).GetProperty("changed").GetInt64(), Is.EqualTo(6), "released: it works");
    }

    [Test]
    public async Task AMissingOrReadOnlyDatabaseIsAConflictNeverA500()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync(NewFolder(database: false));
        var url = $"/api/agents/{agent}/broca/queue";
        await (await Admin.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostAsync(url + "/flush", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.That(File.Exists(folder.DatabasePath), Is.False, "never created");

        await (await Admin.GetAsync("/api/agents/athena-none/broca/queue")).AssertProblemAsync(HttpStatusCode.NotFound);
        var (other, readOnly, _) = await AgentWithBrocaAsync();
        readOnly.AddQueue("pending", 2, readOnly.AddUser("telegram", "3", "dan"));
        // A file the service may not write (root writes any file, so the folder's database is made unusable another way there).
        if (Environment.UserName == "root") File.WriteAllText(readOnly.DatabasePath, "not a database at all, just text that is long enough");
        else File.SetUnixFileMode(readOnly.DatabasePath, UnixFileMode.UserRead);
        await (await Admin.PostAsync($"/api/agents/{other}/broca/queue/flush", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.GetAsync($"/api/agents/{other}/broca/queue/stats")).AssertProblemAsync(HttpStatusCode.Conflict);
        if (Environment.UserName != "root") File.SetUnixFileMode(readOnly.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    // ---- 4. users ----

    [Test]
    public async Task UsersAreDiscoveredAcrossAgentsPromotedLinkedAndSwitchedOff()
    {
        var (first, one, _) = await AgentWithBrocaAsync();
        var (second, two, _) = await AgentWithBrocaAsync();
        var erin = one.AddUser("telegram", "501", "erin", "Erin E", messages: 3);
        two.AddUser("telegram", "502", "frank", "Frank F", messages: 1);
        two.AddUser("web", "abc", null, "Gina G");

        var all = await Admin.GetFromJsonAsync<JsonElement>($"/api/broca/users?search=n&limit=200");
        var found = all.GetProperty("items").EnumerateArray().Where(u => u.GetProperty("agent").GetString() is { } a && (a == first || a == second)).ToList();
        Assert.That(found.Select(u => u.GetProperty("display_name").GetString()), Is.EquivalentTo(new[] { "Erin E", "Frank F", "Gina G" }));
        var e = found.Single(u => u.GetProperty("username").GetString() == "erin");
        Assert.That(e.GetProperty("message_count").GetInt64(), Is.EqualTo(3));
        Assert.That(e.GetProperty("letta_identity_id").GetString(), Is.EqualTo("identity-501"));
        Assert.That(e.GetProperty("is_active").GetBoolean(), Is.True);
        var web = await Admin.GetFromJsonAsync<JsonElement>($"/api/broca/users?agent={second}&platform=web");
        Assert.That(web.GetProperty("items").GetArrayLength(), Is.EqualTo(1));
        await (await _clients.User.GetAsync("/api/broca/users")).AssertProblemAsync(HttpStatusCode.Forbidden);

        var promoted = await Admin.PostAsJsonAsync($"/api/broca/users/{first}/{erin}/promote", new { });
        Assert.That(promoted.StatusCode, Is.EqualTo(HttpStatusCode.Created), await promoted.Content.ReadAsStringAsync());
        var body = await promoted.JsonAsync();
        Assert.That(body.GetProperty("user").GetProperty("role").GetString(), Is.EqualTo("viewer"));
        Assert.That(body.GetProperty("user").GetProperty("username").GetString(), Does.StartWith("erin"));
        var password = body.GetProperty("temporary_password").GetString()!;
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), body.GetProperty("user").GetProperty("username").GetString()!, password), Is.Not.Null);
        var userId = body.GetProperty("user").GetProperty("id").GetInt64();
        await (await Admin.PostAsJsonAsync($"/api/broca/users/{first}/{erin}/promote", new { })).AssertProblemAsync(HttpStatusCode.Conflict);

        var links = await Admin.GetFromJsonAsync<JsonElement>($"/api/broca/links?user_id={userId}");
        Assert.That(links[0].GetProperty("platform_user_id").GetString(), Is.EqualTo("501"));
        var again = await Admin.GetFromJsonAsync<JsonElement>($"/api/broca/users?agent={first}");
        Assert.That(again.GetProperty("items")[0].GetProperty("sanctum_user_id").GetInt64(), Is.EqualTo(userId));

        var off = await Admin.PatchAsJsonAsync($"/api/broca/users/{first}/{erin}", new { is_active = false });
        Assert.That((await off.JsonAsync()).GetProperty("is_active").GetBoolean(), Is.False);
        using var broca = one.Open();
        Assert.That(broca.ExecuteScalar<long>("SELECT is_active FROM letta_users WHERE id = (SELECT letta_user_id FROM platform_profiles WHERE id = @erin)", new { erin }), Is.EqualTo(0));
    }

    // ---- 5. logs ----

    [Test]
    public async Task LogsTailByLevelAndDownloadWithoutLeavingTheFolder()
    {
        var (agent, folder, _) = await AgentWithBrocaAsync();
        File.WriteAllText(Path.Combine(folder.LogsPath, "broca.log"), """
            [2026-12-06 10:00:00] [INFO] runtime: started
            [2026-12-06 10:00:01] [ERROR] queue: failed to reach Letta
            Traceback line one
            [2026-12-06 10:00:02] [DEBUG] queue: polling

            """);
        File.WriteAllText(Path.Combine(folder.Home, "secret.txt"), "outside logs");
        var url = $"/api/agents/{agent}/broca/logs";
        var errors = await Admin.GetFromJsonAsync<JsonElement>(url + "?level=warning");
        Assert.That(errors.GetProperty("lines").EnumerateArray().Select(l => l.GetString()),
            Is.EqualTo(new[] { "[2026-12-06 10:00:01] [ERROR] queue: failed to reach Letta", "Traceback line one" }));
        var last = await Admin.GetFromJsonAsync<JsonElement>(url + "?lines=1");
        Assert.That(last.GetProperty("lines")[0].GetString(), Does.Contain("polling"));
        var download = await Admin.GetAsync(url + "/broca.log");
        Assert.That(await download.Content.ReadAsStringAsync(), Does.Contain("started"));
        Assert.That((int)(await Admin.GetAsync(url + "/..%2Fsecret.txt")).StatusCode, Is.AnyOf(400, 404));
        Assert.That((int)(await Admin.GetAsync(url + "/.env")).StatusCode, Is.EqualTo(400));
        File.CreateSymbolicLink(Path.Combine(folder.LogsPath, "escape.log"), Path.Combine(folder.Home, "secret.txt"));
        await (await Admin.GetAsync(url + "/escape.log")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _clients.Viewer.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    // ---- 6. health ----

    [Test]
    public async Task TheBrocaCheckReadsTheQueue()
    {
        var folder = NewFolder();
        var profile = folder.AddUser("telegram", "9", "hank");
        var (agent, _, instance) = await AgentWithBrocaAsync(folder);
        var set = await Admin.PatchAsJsonAsync($"/api/tools/broca/instances/{instance}",
            new { health_check = new { type = "broca", target = folder.Home, interval_seconds = 60, pending_factor = 10 } });
        Assert.That(set.StatusCode, Is.EqualTo(HttpStatusCode.OK), await set.Content.ReadAsStringAsync());

        async Task<JsonElement> CheckAsync() =>
            (await (await Admin.PostAsync($"/api/tools/broca/instances/{instance}/check", null)).JsonAsync()).GetProperty("instance");
        var healthy = await CheckAsync();
        Assert.That(healthy.GetProperty("status").GetString(), Is.EqualTo("Healthy"), healthy.ToString());
        Assert.That(healthy.GetProperty("status_reason").GetString(), Does.StartWith("0 pending"));

        folder.AddQueue("pending", 12, profile, Sanctum.Api.Broca.BrocaQueueApi.Stamp(DateTimeOffset.UtcNow.AddMinutes(-14)));
        var late = await CheckAsync();
        Assert.That(late.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(late.GetProperty("status_reason").GetString(), Does.StartWith("12 pending, oldest 14 min"));

        File.Delete(folder.DatabasePath);
        Assert.That((await CheckAsync()).GetProperty("status").GetString(), Is.EqualTo("Off"));
        _ = agent;
    }
}
