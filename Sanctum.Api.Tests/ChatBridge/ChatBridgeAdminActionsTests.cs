namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>The bridge's admin-key actions: sessions, config, cleanup, clear_data, cleanup_logs.</summary>
public class ChatBridgeAdminActionsTests
{
    private static HttpClient AdminKeyClient(SanctumApplication app) => app.CreateKeyClient(app.BridgeKey("chat_admin_key"));

    // One host for the refused config posts: each compares the settings before and after its own refusal, so what another
    // case left (nothing, when they pass) cannot hide a change of its own. The tests that change things have hosts of their own.
    private Lazy<SanctumApplication> _refusals = null!;

    [OneTimeSetUp]
    public void ForTheRefusals() => _refusals = new(() => new SanctumApplication().AllowAnonymousChat());

    [OneTimeTearDown]
    public void StopTheRefusals()
    {
        if (_refusals.IsValueCreated) _refusals.Value.Dispose();
    }

    private static string Ago(TimeSpan span) => (DateTimeOffset.UtcNow - span).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    [Test]
    public async Task SessionsListsEachSessionWithItsCountsMostRecentFirst()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var web = app.CreateClient();
        await (await web.PostMessageAsync(new { session_id = "session_old", message = "a", agent_id = "athena" })).BridgeDataAsync();
        await (await web.PostMessageAsync(new { session_id = "session_new", message = "b" })).BridgeDataAsync();
        await (await web.PostMessageAsync(new { session_id = "session_new", message = "c" })).BridgeDataAsync();
        await (await app.CreateKeyClient(app.BridgeKey()).PostAsJsonAsync("/api/v1/outbox", new { session_id = "session_new", response = "r" })).BridgeDataAsync();
        using (var db = app.OpenDatabase()) db.Execute("UPDATE web_chat_sessions SET last_active = @old WHERE id = 'session_old'", new { old = Ago(TimeSpan.FromDays(2)) });

        var admin = AdminKeyClient(app);
        var all = await (await admin.GetAsync("/api/v1/?action=sessions")).BridgeDataAsync();
        var sessions = all.GetProperty("sessions").EnumerateArray().ToList();
        Assert.That(sessions.Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { "session_new", "session_old" }));
        Assert.That(sessions[0].GetProperty("message_count").GetInt32(), Is.EqualTo(2));
        Assert.That(sessions[0].GetProperty("response_count").GetInt32(), Is.EqualTo(1));
        Assert.That(sessions[0].GetProperty("uid").GetString(), Does.Match("^[0-9a-f]{16}$"));
        Assert.That(sessions[0].GetProperty("ip_address").GetString(), Is.Not.Empty);
        Assert.That(sessions[1].GetProperty("agent_id").GetString(), Is.EqualTo("athena"));
        Assert.That(all.GetProperty("pagination").GetProperty("total").GetInt32(), Is.EqualTo(2));

        var active = await (await admin.GetAsync("/api/v1/sessions?active=true")).BridgeDataAsync();
        Assert.That(active.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { "session_new" }));
        var paged = await (await admin.GetAsync("/api/v1/?action=sessions&limit=1&offset=1")).BridgeDataAsync();
        Assert.That(paged.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { "session_old" }));
        Assert.That(paged.GetProperty("pagination").GetProperty("has_more").GetBoolean(), Is.False);
        await (await admin.GetAsync("/api/v1/?action=sessions&active=maybe")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid active parameter");
    }

    [Test]
    public async Task ConfigShowsTheBridgeSettingsButNeverTheKeys()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:InboxPerMinute"] = "99" });
        var response = await AdminKeyClient(app).GetAsync("/api/v1/?action=config");
        var text = await response.Content.ReadAsStringAsync();
        var data = await response.BridgeDataAsync();
        Assert.That(data.GetProperty("max_message_length").GetInt32(), Is.EqualTo(10_000));
        Assert.That(data.GetProperty("session_timeout").GetInt32(), Is.EqualTo(1800));
        var limits = data.GetProperty("rate_limits");
        Assert.That((limits.GetProperty("messages").GetInt32(), limits.GetProperty("inbox").GetInt32(), limits.GetProperty("outbox").GetInt32(),
            limits.GetProperty("responses").GetInt32(), limits.GetProperty("sessions").GetInt32()), Is.EqualTo((30, 99, 240, 120, 60)));
        Assert.That(text, Does.Not.Contain(app.BridgeKey()).And.Not.Contain(app.BridgeKey("chat_admin_key")).And.Not.Contain("chat_api_key"));
    }

    [Test]
    public async Task ConfigPostChangesTheTwoSettingsAndTheyApply()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var admin = AdminKeyClient(app);
        var data = await (await admin.PostAsJsonAsync("/api/v1/?action=config", new { max_message_length = 20, session_timeout = "600" })).BridgeDataAsync();
        Assert.That(data.GetProperty("max_message_length").GetInt32(), Is.EqualTo(20));
        Assert.That(data.GetProperty("session_timeout").GetInt32(), Is.EqualTo(600));

        using (var db = app.OpenDatabase())
        {
            Assert.That(db.QuerySingle<(string, string)>("SELECT config_value, config_type FROM system_config WHERE config_key = 'max_message_length'"), Is.EqualTo(("20", "number")));
            Assert.That(db.QuerySingle<string>("SELECT config_value FROM system_config WHERE config_key = 'session_timeout'"), Is.EqualTo("600"));
        }
        await (await app.CreateClient().PostMessageAsync(new { session_id = "session_cfg", message = new string('x', 21) }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid message");
    }

    [TestCase("""{"chat_api_key":"mine"}""", "Setting chat_api_key looks like a secret: secrets are not kept in the bridge's settings")]
    [TestCase("""{"chat_admin_key":"mine"}""", "Setting chat_admin_key looks like a secret: secrets are not kept in the bridge's settings")]
    [TestCase("""{"openai_token":"x","welcome":"hi"}""", "Setting openai_token looks like a secret: secrets are not kept in the bridge's settings")]
    [TestCase("""{"welcome":"hi","bad name":"x"}""", "Unknown setting: bad name")]
    [TestCase("""{"welcome":{"nested":true}}""", "Invalid welcome: a string, number or boolean is required")]
    [TestCase("""{"max_message_length":0}""", "Invalid max_message_length: a whole number from 1 to 10000 is required")]
    [TestCase("""{"max_message_length":10001}""", "Invalid max_message_length: a whole number from 1 to 10000 is required")]
    [TestCase("""{"max_message_length":"ten"}""", "Invalid max_message_length: a whole number from 1 to 10000 is required")]
    [TestCase("""{"session_timeout":1.5}""", "Invalid session_timeout: a whole number from 60 to 31536000 is required")]
    [TestCase("""{"session_timeout":600,"rate_limits":{"messages":1}}""", "Rate limits are set in the server configuration (Sanctum:ChatBridge)")]
    [TestCase("""[1]""", "Invalid JSON")]
    [TestCase("""{oops""", "Invalid JSON")]
    public async Task AnInvalidConfigPostChangesNothing(string body, string error)
    {
        var app = _refusals.Value;
        string Snapshot()
        {
            using var db = app.OpenDatabase();
            return string.Join("|", db.Query<string>("SELECT config_key || '=' || coalesce(config_value, '') FROM system_config ORDER BY config_key"));
        }
        var before = Snapshot();
        await (await AdminKeyClient(app).PostAsync("/api/v1/?action=config", Support.JsonBody(body))).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, error);
        Assert.That(Snapshot(), Is.EqualTo(before));
    }

    [Test]
    public async Task OtherConfigKeysAreKeptAsPlainBridgeSettings()
    {
        await using var app = new SanctumApplication();
        var admin = AdminKeyClient(app);
        var data = await (await admin.PostAsync("/api/v1/?action=config", Support.JsonBody("""{"welcome_text":"Hi there","poll_seconds":5,"session_timeout":900}""")))
            .BridgeDataAsync();
        Assert.That(data.GetProperty("welcome_text").GetString(), Is.EqualTo("Hi there"));
        Assert.That(data.GetProperty("poll_seconds").GetString(), Is.EqualTo("5"));
        Assert.That(data.GetProperty("session_timeout").GetInt32(), Is.EqualTo(900));
        var again = await (await admin.GetAsync("/api/v1/?action=config")).BridgeDataAsync();
        Assert.That(again.EnumerateObject().Select(p => p.Name),
            Is.EquivalentTo(new[] { "max_message_length", "session_timeout", "rate_limits", "poll_seconds", "welcome_text" }), "the stored keys sit at the top level");
        Assert.That(again.TryGetProperty("settings", out _), Is.False);
        Assert.That(again.TryGetProperty("chat_api_key", out _), Is.False);
        using var db = app.OpenDatabase();
        Assert.That(db.QuerySingle<(string, string, long)>("SELECT config_value, category, CAST(is_encrypted AS INTEGER) FROM system_config WHERE config_key = 'chat_bridge.welcome_text'"),
            Is.EqualTo(("Hi there", "chat_bridge", 0L)));

        await (await admin.PostAsync("/api/v1/?action=config", Support.JsonBody($$"""{"motd":"{{new string('x', 1001)}}"}""")))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid motd: at most 1000 characters");
        var many = "{" + string.Join(",", Enumerable.Range(0, 49).Select(i => $"\"extra_{i}\":\"v\"")) + "}";
        await (await admin.PostAsync("/api/v1/?action=config", Support.JsonBody(many)))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Too many bridge settings: at most 50");
        Assert.That(app.Count("SELECT COUNT(*) FROM system_config WHERE category = 'chat_bridge'"), Is.EqualTo(2), "a refused post changes nothing");
    }

    /// <summary>
    /// The web chat bridge's own suite (sanctumos/broca-web-client, tests/integration and tests/e2e) reads config this
    /// way: it posts other keys and numbers as strings, reads them back at the top level of data, and expects every key
    /// it did not post to keep its value.
    /// </summary>
    [Test]
    public async Task ConfigFollowsTheBridgeClientsWorkflow()
    {
        await using var app = new SanctumApplication();
        var admin = AdminKeyClient(app);
        var original = await (await admin.GetAsync("/api/v1/?action=config")).BridgeDataAsync();

        await (await admin.PostAsJsonAsync("/api/v1/?action=config",
            new { max_message_length = "9000", session_timeout = "3600", custom_setting = "custom_value", feature_flag = "enabled" })).BridgeDataAsync();
        var updated = await (await admin.GetAsync("/api/v1/config")).BridgeDataAsync();
        Assert.That(updated.GetProperty("max_message_length").GetInt32(), Is.EqualTo(9000), "a numeric string is taken for a numeric setting");
        Assert.That(updated.GetProperty("session_timeout").GetInt32(), Is.EqualTo(3600));
        Assert.That(updated.GetProperty("custom_setting").GetString(), Is.EqualTo("custom_value"));
        Assert.That(updated.GetProperty("feature_flag").GetString(), Is.EqualTo("enabled"));
        foreach (var key in original.EnumerateObject().Where(p => p.Name is not ("max_message_length" or "session_timeout")))
            Assert.That(updated.GetProperty(key.Name).GetRawText(), Is.EqualTo(key.Value.GetRawText()), key.Name);

        await (await admin.PostAsJsonAsync("/api/v1/?action=config", new { max_message_length = "10000", session_timeout = "1800" })).BridgeDataAsync();
        var rolledBack = await (await admin.GetAsync("/api/v1/?action=config")).BridgeDataAsync();
        Assert.That((rolledBack.GetProperty("max_message_length").GetInt32(), rolledBack.GetProperty("session_timeout").GetInt32()), Is.EqualTo((10_000, 1800)));
        Assert.That(rolledBack.GetProperty("custom_setting").GetString(), Is.EqualTo("custom_value"));
    }

    [Test]
    public async Task CleanupRemovesSessionsIdleLongerThanTheTimeoutWithTheirRows()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var web = app.CreateClient();
        await (await web.PostMessageAsync(new { session_id = "session_idle", message = "old" })).BridgeDataAsync();
        await (await web.PostMessageAsync(new { session_id = "session_fresh", message = "new" })).BridgeDataAsync();
        var messageId = app.Count("SELECT id FROM web_chat_messages WHERE session_id = 'session_idle'");
        await (await app.CreateKeyClient(app.BridgeKey()).PostAsJsonAsync("/api/v1/outbox", new { session_id = "session_idle", response = "r", message_id = messageId })).BridgeDataAsync();
        using (var db = app.OpenDatabase()) db.Execute("UPDATE web_chat_sessions SET last_active = @old WHERE id = 'session_idle'", new { old = Ago(TimeSpan.FromHours(1)) });

        var data = await (await AdminKeyClient(app).PostAsync("/api/v1/?action=cleanup", null)).BridgeDataAsync();
        Assert.That(data.GetProperty("cleaned_count").GetInt32(), Is.EqualTo(1));
        Assert.That(data.GetProperty("message").GetString(), Does.Contain("1800"));

        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_idle'"), Is.Zero);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_idle'"), Is.Zero);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_responses"), Is.Zero);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_fresh'"), Is.EqualTo(1));
    }

    [Test]
    public async Task ClearDataDeletesEveryChatRowAndReportsWhatRemains()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        app.ArrangeMessages("session_one", 2);
        app.ArrangeMessages("session_two", 1);
        await (await app.CreateKeyClient(app.BridgeKey()).PostAsJsonAsync("/api/v1/outbox", new { session_id = "session_one", response = "r" })).BridgeDataAsync();

        var data = await (await AdminKeyClient(app).PostAsync("/api/v1/clear_data", null)).BridgeDataAsync();
        var deleted = data.GetProperty("deleted");
        Assert.That((deleted.GetProperty("sessions").GetInt32(), deleted.GetProperty("messages").GetInt32(), deleted.GetProperty("responses").GetInt32()),
            Is.EqualTo((2, 3, 1)));
        var remaining = data.GetProperty("remaining");
        Assert.That((remaining.GetProperty("sessions").GetInt32(), remaining.GetProperty("messages").GetInt32(), remaining.GetProperty("responses").GetInt32()),
            Is.EqualTo((0, 0, 0)));
        Assert.That(app.Count("SELECT (SELECT COUNT(*) FROM web_chat_sessions) + (SELECT COUNT(*) FROM web_chat_messages) + (SELECT COUNT(*) FROM web_chat_responses)"), Is.Zero);
    }

    [Test]
    public async Task CleanupLogsReportsTheLogSettingsWithoutInventedFigures()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var data = await (await AdminKeyClient(app).PostAsync("/api/v1/?action=cleanup_logs", null)).BridgeDataAsync();
        Assert.That(data.GetProperty("log_destination").GetString(), Is.EqualTo("console"));
        Assert.That(data.GetProperty("log_level").GetString(), Is.Not.Empty);
        Assert.That(data.GetProperty("files_deleted").GetInt32(), Is.Zero);
    }
}
