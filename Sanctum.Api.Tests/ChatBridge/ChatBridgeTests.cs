using System.Net.Http.Headers;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>The chat bridge at /api/v1 as Broca and the chat page use it (chat-bridge.md).</summary>
public class ChatBridgeTests
{
    // Shared by the tests that only read or are refused; stateful tests start their own app.
    private SanctumApplication _shared = null!;

    [OneTimeSetUp]
    public void Start() => _shared = new SanctumApplication(new Dictionary<string, string?>
    {
        ["Sanctum:ChatBridge:MessagesPerMinute"] = "100000",
        ["Sanctum:ChatBridge:InboxPerMinute"] = "100000",
        ["Sanctum:ChatBridge:ResponsesPerMinute"] = "100000",
        ["Sanctum:ChatBridge:OutboxPerMinute"] = "100000",
        ["Sanctum:ChatBridge:WrongKeysPerMinute"] = "100000",
        ["Sanctum:ChatBridge:AnonymousMessagesPerHourPerAddress"] = "100000",
        ["Sanctum:ChatBridge:AnonymousMessagesPerHour"] = "100000",
    }).AllowAnonymousChat();

    // The limit cases poll an inbox that stays empty (a poll leases what it hands out, so not on _shared, whose messages
    // other tests count): one host for the four of them.
    private readonly Lazy<SanctumApplication> _emptyInbox = new(() => new SanctumApplication().AllowAnonymousChat());

    [OneTimeTearDown]
    public void Stop()
    {
        _shared.Dispose();
        if (_emptyInbox.IsValueCreated) _emptyInbox.Value.Dispose();
    }

    private static StringContent Json(string json) => Support.JsonBody(json);

    // ---- the round trip ----

    [TestCase("/api/v1/?action=")]
    [TestCase("/api/v1?action=")]
    [TestCase("/api/v1/")]
    public async Task AMessageTravelsThroughInboxAndOutboxBackToTheChat(string prefix)
    {
        string Url(string action, string query = "") => prefix.EndsWith('=') ? $"{prefix}{action}{query.Replace('?', '&')}" : $"{prefix}{action}{query}";
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var web = app.CreateClient();

        var sent = await (await web.PostAsync(Url("messages"), Json("""{"session_id":"  session_round_trip ","message":"  Hello Athena  "}"""))).BridgeDataAsync();
        var messageId = sent.GetProperty("message_id").GetInt64();
        var uid = sent.GetProperty("uid").GetString();
        Assert.That(sent.GetProperty("session_id").GetString(), Is.EqualTo("session_round_trip"));
        Assert.That(sent.GetProperty("timestamp").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));
        Assert.That(uid, Does.Match("^[0-9a-f]{16}$"));
        Assert.That(sent.GetProperty("is_new_user").GetBoolean(), Is.True);

        var broca = app.CreateKeyClient(app.BridgeKey());
        var inbox = await (await broca.GetAsync(Url("inbox", "?limit=50"))).BridgeDataAsync();
        var message = inbox.GetProperty("messages").EnumerateArray().Single();
        Assert.That(message.GetProperty("id").GetInt64(), Is.EqualTo(messageId));
        Assert.That(message.GetProperty("session_id").GetString(), Is.EqualTo("session_round_trip"));
        Assert.That(message.GetProperty("message").GetString(), Is.EqualTo("Hello Athena"));
        Assert.That(message.GetProperty("uid").GetString(), Is.EqualTo(uid));
        Assert.That(message.GetProperty("timestamp").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));
        Assert.That(message.GetProperty("agent_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(message.GetProperty("user_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var pagination = inbox.GetProperty("pagination");
        Assert.That((pagination.GetProperty("total").GetInt32(), pagination.GetProperty("limit").GetInt32(), pagination.GetProperty("offset").GetInt32(),
            pagination.GetProperty("has_more").GetBoolean()), Is.EqualTo((1, 50, 0, false)));
        Assert.That(app.DeliveryState(messageId), Is.EqualTo("leased"), "handed out, not yet answered");

        var replied = await (await broca.PostAsync(Url("outbox"), Json("""{"session_id":"session_round_trip","response":"Hi, I am Athena."}"""))).BridgeDataAsync();
        var responseId = replied.GetProperty("response_id").GetInt64();
        Assert.That(replied.GetProperty("session_id").GetString(), Is.EqualTo("session_round_trip"));
        Assert.That(replied.GetProperty("timestamp").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));

        var responses = await (await web.GetAsync(Url("responses", "?session_id=session_round_trip"))).BridgeDataAsync();
        Assert.That(responses.GetProperty("session_id").GetString(), Is.EqualTo("session_round_trip"));
        var response = responses.GetProperty("responses").EnumerateArray().Single();
        Assert.That(response.GetProperty("id").GetInt64(), Is.EqualTo(responseId));
        Assert.That(response.GetProperty("response").GetString(), Is.EqualTo("Hi, I am Athena."));
        Assert.That(response.GetProperty("timestamp").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));
        Assert.That(response.GetProperty("message_id").GetInt64(), Is.EqualTo(messageId), "a reply without message_id answers the leased message");

        using var db = app.OpenDatabase();
        var stored = db.QuerySingle<(string Message, long Processed, long? UserId)>("SELECT message, processed, user_id FROM web_chat_messages WHERE id = @messageId", new { messageId });
        Assert.That(stored, Is.EqualTo(("Hello Athena", 1L, (long?)null)));
        Assert.That(db.QuerySingle<string>("SELECT response FROM web_chat_responses WHERE id = @responseId", new { responseId }), Is.EqualTo("Hi, I am Athena."));
        Assert.That(db.QuerySingle<string>("SELECT uid FROM web_chat_sessions WHERE id = 'session_round_trip'"), Is.EqualTo(uid));
    }

    [Test]
    public async Task ASessionKeepsOneStableUid()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var web = app.CreateClient();
        var first = await (await web.PostMessageAsync(new { session_id = "session_stable", message = "one" })).BridgeDataAsync();
        var second = await (await web.PostMessageAsync(new { session_id = "session_stable", message = "two" })).BridgeDataAsync();
        var other = await (await web.PostMessageAsync(new { session_id = "session_other", message = "three" })).BridgeDataAsync();

        Assert.That(second.GetProperty("uid").GetString(), Is.EqualTo(first.GetProperty("uid").GetString()));
        Assert.That(second.GetProperty("is_new_user").GetBoolean(), Is.False);
        Assert.That(other.GetProperty("uid").GetString(), Is.Not.EqualTo(first.GetProperty("uid").GetString()));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions"), Is.EqualTo(2));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_stable'"), Is.EqualTo(2));
    }

    // ---- validation of messages, in the protocol's order, with its exact texts ----

    [TestCase("{bad json", "Invalid JSON")]
    [TestCase("", "Invalid JSON")]
    [TestCase("[]", "Missing required fields")]
    [TestCase("""{"message":"hi"}""", "Missing required fields")]
    [TestCase("""{"session_id":"session_ok"}""", "Missing required fields")]
    [TestCase("""{"session_id":5}""", "Missing required fields")]
    [TestCase("""{"session_id":123,"message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":null,"message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":123,"message":""}""", "Invalid session ID")]
    [TestCase("""{"session_id":"sess_abc","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_a b","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_a\nb","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_ä","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_a-b","message":"hi"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_ok","message":""}""", "Invalid message")]
    [TestCase("""{"session_id":"session_ok","message":"   \n\t "}""", "Invalid message")]
    [TestCase("""{"session_id":"session_ok","message":42}""", "Invalid message")]
    [TestCase("""{"session_id":"session_ok","message":null}""", "Invalid message")]
    [TestCase("""{"session_id":"session_ok","message":"hi","agent_id":"nobody"}""", "Invalid agent")]
    [TestCase("""{"session_id":"session_ok","message":"hi","agent_id":7}""", "Invalid agent")]
    public async Task AnInvalidMessageIs400WithTheProtocolsTextAndNothingIsWritten(string body, string error)
    {
        var before = _shared.Count("SELECT COUNT(*) FROM web_chat_messages");
        var response = await _shared.CreateClient().PostAsync("/api/v1/?action=messages", Json(body));
        await response.AssertBridgeErrorAsync(HttpStatusCode.BadRequest, error);
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(before));
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_ok'"), Is.Zero);
    }

    [Test]
    public async Task SessionIdsAreLimitedTo64Characters()
    {
        var web = _shared.CreateClient();
        var longest = "session_" + new string('x', 56);
        var tooLong = "session_" + new string('x', 57);
        await (await web.PostMessageAsync(new { session_id = tooLong, message = "hi" })).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid session ID");
        await (await web.PostMessageAsync(new { session_id = longest, message = "hi" })).BridgeDataAsync();
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = @longest", new { longest }), Is.EqualTo(1));
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = @tooLong", new { tooLong }), Is.Zero);
    }

    [Test]
    public async Task MessagesMayHaveUpTo10000CharactersCountingAnEmojiAsOne()
    {
        var web = _shared.CreateClient();
        await (await web.PostMessageAsync(new { session_id = "session_long_ok", message = new string('a', 10_000) })).BridgeDataAsync();
        await (await web.PostMessageAsync(new { session_id = "session_emoji", message = string.Concat(Enumerable.Repeat("😀", 10_000)) })).BridgeDataAsync();
        await (await web.PostMessageAsync(new { session_id = "session_long_no", message = new string('a', 10_001) }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid message");
        Assert.That(_shared.Count("SELECT length(message) FROM web_chat_messages WHERE session_id = 'session_long_ok'"), Is.EqualTo(10_000));
        Assert.That(_shared.Count("SELECT length(message) FROM web_chat_messages WHERE session_id = 'session_emoji'"), Is.EqualTo(10_000));
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_long_no'"), Is.Zero);
    }

    [Test]
    public async Task TheMaximumMessageLengthComesFromSystemConfig()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        using (var db = app.OpenDatabase()) db.Execute("UPDATE system_config SET config_value = '5' WHERE config_key = 'max_message_length'");
        var web = app.CreateClient();
        await (await web.PostMessageAsync(new { session_id = "session_short", message = "123456" })).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid message");
        await (await web.PostMessageAsync(new { session_id = "session_short", message = " 12345 " })).BridgeDataAsync();
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(1));
    }

    // ---- the envelope, never problem+json ----

    [Test]
    public async Task MissingAndUnknownActionsAre400InTheEnvelope()
    {
        var web = _shared.CreateClient();
        await (await web.GetAsync("/api/v1/")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Missing action parameter");
        await (await web.GetAsync("/api/v1")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Missing action parameter");
        await (await web.PostAsync("/api/v1/?action=", Json("{}"))).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Missing action parameter");
        await (await web.GetAsync("/api/v1/?action=launch")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid action");
        await (await web.PostAsync("/api/v1/launch", Json("{}"))).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid action");
        await (await web.GetAsync("/api/v1/?action=MESSAGES")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid action");
    }

    [TestCase("GET", "/api/v1/?action=messages")]
    [TestCase("GET", "/api/v1/messages")]
    [TestCase("POST", "/api/v1/?action=inbox")]
    [TestCase("PUT", "/api/v1/?action=inbox")]
    [TestCase("DELETE", "/api/v1/?action=clear_data")]
    [TestCase("PATCH", "/api/v1/outbox")]
    [TestCase("GET", "/api/v1/cleanup")]
    [TestCase("PROPFIND", "/api/v1/")]
    public async Task AWrongMethodIs405InTheEnvelope(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "GET" ? null : Json("{}") };
        await (await _shared.CreateClient().SendAsync(request)).AssertBridgeErrorAsync(HttpStatusCode.MethodNotAllowed, "Method not allowed");
    }

    [Test]
    public async Task OptionsAnswers200WithAnEmptyBody()
    {
        foreach (var url in new[] { "/api/v1/", "/api/v1/?action=messages", "/api/v1/inbox" })
        {
            var response = await _shared.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Options, url));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), url);
            Assert.That(await response.Content.ReadAsStringAsync(), Is.Empty, url);
        }
    }

    [Test]
    public async Task AnOversizedBodyIs413InTheEnvelopeWhetherDeclaredOrStreamed()
    {
        var web = _shared.CreateClient();
        var big = new string('a', 1024 * 1024 + 10);
        var declared = await web.PostAsync("/api/v1/?action=messages", new StringContent($"{{\"session_id\":\"session_big\",\"message\":\"{big}\"}}"));
        await declared.AssertBridgeErrorAsync(HttpStatusCode.RequestEntityTooLarge, "Request too large");

        var streamed = new HttpRequestMessage(HttpMethod.Post, "/api/v1/messages") { Content = new UnknownLengthContent(System.Text.Encoding.UTF8.GetBytes(big)) };
        await (await web.SendAsync(streamed)).AssertBridgeErrorAsync(HttpStatusCode.RequestEntityTooLarge, "Request too large");
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_big'"), Is.Zero);
    }

    [Test]
    public async Task AnUnknownPathUnderTheBridgeIs404InTheEnvelope()
    {
        await (await _shared.CreateClient().GetAsync("/api/v1/inbox/extra")).AssertBridgeErrorAsync(HttpStatusCode.NotFound, "Not found");
        // Outside the bridge, errors stay problem details.
        await (await _shared.CreateClient().GetAsync("/api/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ACrossSiteWriteWithTheSessionCookieIsRefusedInTheEnvelope()
    {
        var username = $"xsite{Guid.NewGuid():N}"[..16];
        await _shared.CreateClientForRoleAsync("user", username);
        var browser = _shared.CreateClient();
        Assert.That(await SanctumApplication.LoginAsync(browser, username, "role-password-1"), Is.Not.Null);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/?action=messages") { Content = Json("""{"session_id":"session_xsite","message":"hi"}""") };
        request.Headers.Add("Origin", "https://evil.example");
        var response = await browser.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Assert.That(body.GetProperty("success").GetBoolean(), Is.False);
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_xsite'"), Is.Zero);
    }

    // ---- keys ----

    [TestCase(null, "Authentication required")]
    [TestCase("Bearer ", "Authentication required")]
    [TestCase("Bearer", "Authentication required")]
    [TestCase("Basic dXNlcjpwYXNz", "Authentication required")]
    [TestCase("bearer {key}", "Authentication required")]
    [TestCase("Bearer wrong-key", "Invalid API key")]
    [TestCase("Bearer {key}x", "Invalid API key")]
    public async Task TheInboxRefusesAMissingOrWrongKey(string? header, string error)
    {
        var client = _shared.CreateClient();
        if (header is not null) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", header.Replace("{key}", _shared.BridgeKey()));
        _shared.ArrangeMessages($"session_keys_{Guid.NewGuid():N}", 1);
        var before = _shared.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'");

        await (await client.GetAsync("/api/v1/?action=inbox")).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, error);
        await (await client.PostAsync("/api/v1/?action=outbox", Json("""{"session_id":"session_x","response":"r"}"""))).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, error);
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'"), Is.EqualTo(before), "a refused poll marks nothing");
    }

    [Test]
    public async Task AdminActionsNeedTheAdminKeyWhichAlsoOpensTheInbox()
    {
        var api = _shared.CreateKeyClient(_shared.BridgeKey());
        var admin = _shared.CreateKeyClient(_shared.BridgeKey("chat_admin_key"));
        foreach (var (method, action) in new[] { ("GET", "sessions"), ("GET", "config"), ("POST", "config"), ("POST", "cleanup"), ("POST", "clear_data"), ("POST", "cleanup_logs") })
        {
            var request = new HttpRequestMessage(new HttpMethod(method), $"/api/v1/?action={action}") { Content = method == "POST" ? Json("{}") : null };
            await (await api.SendAsync(request)).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Invalid admin key");
            var anonymous = new HttpRequestMessage(new HttpMethod(method), $"/api/v1/{action}") { Content = method == "POST" ? Json("{}") : null };
            await (await _shared.CreateClient().SendAsync(anonymous)).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Authentication required");
        }
        await (await admin.GetAsync("/api/v1/?action=inbox&limit=1")).BridgeDataAsync();
        await (await admin.GetAsync("/api/v1/?action=sessions")).BridgeDataAsync();
    }

    [Test]
    public async Task TheBridgeKeysAreRandomPerInstallAndStoredEncrypted()
    {
        await using var other = new SanctumApplication();
        Assert.That(other.BridgeKey(), Is.Not.EqualTo(_shared.BridgeKey()));
        Assert.That(other.BridgeKey(), Is.Not.EqualTo(other.BridgeKey("chat_admin_key")));
        Assert.That(other.BridgeKey(), Has.Length.GreaterThanOrEqualTo(32));
        using var db = other.OpenDatabase();
        var stored = db.QuerySingle<(string Value, long Encrypted)>("SELECT config_value, CAST(is_encrypted AS INTEGER) FROM system_config WHERE config_key = 'chat_api_key'");
        Assert.That(stored.Encrypted, Is.EqualTo(1));
        Assert.That(stored.Value, Does.Not.Contain(other.BridgeKey()));
    }

    [Test]
    public async Task ABridgeKeySentAsBearerToAPublicActionIsNotASignIn()
    {
        var client = _shared.CreateKeyClient(_shared.BridgeKey());
        await (await client.PostMessageAsync(new { session_id = "session_keyed_public", message = "hello" })).BridgeDataAsync();
        await (await client.GetAsync("/api/v1/?action=responses&session_id=session_keyed_public")).BridgeDataAsync();
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_keyed_public' AND user_id IS NULL"), Is.EqualTo(1));
    }

    // ---- inbox ----

    [Test]
    public async Task TheInboxPagesOldestFirstAndNeverReturnsAMessageTwice()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var ids = app.ArrangeMessages("session_paging", 3);
        var broca = app.CreateKeyClient(app.BridgeKey());

        var first = await (await broca.GetAsync("/api/v1/?action=inbox&limit=2")).BridgeDataAsync();
        Assert.That(first.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()), Is.EqualTo(ids.Take(2)));
        Assert.That(first.GetProperty("pagination").GetProperty("total").GetInt32(), Is.EqualTo(3));
        Assert.That(first.GetProperty("pagination").GetProperty("has_more").GetBoolean(), Is.True);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'leased'"), Is.EqualTo(2));

        var second = await (await broca.GetAsync("/api/v1/inbox?limit=2")).BridgeDataAsync();
        Assert.That(second.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()), Is.EqualTo(ids.Skip(2)));
        Assert.That(second.GetProperty("pagination").GetProperty("total").GetInt32(), Is.EqualTo(1));
        Assert.That(second.GetProperty("pagination").GetProperty("has_more").GetBoolean(), Is.False);

        var third = await (await broca.GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        Assert.That(third.GetProperty("messages").GetArrayLength(), Is.Zero);
        Assert.That(third.GetProperty("pagination").GetProperty("total").GetInt32(), Is.Zero);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'"), Is.Zero);
    }

    [Test]
    public async Task ConcurrentInboxPollsShareTheMessagesWithoutDuplicates()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var ids = app.ArrangeMessages("session_concurrent", 60);
        var key = app.BridgeKey();
        var clients = Enumerable.Range(0, 8).Select(_ => app.CreateKeyClient(key)).ToList();

        var polls = await Task.WhenAll(clients.Select(async c => await (await c.GetAsync("/api/v1/?action=inbox&limit=10")).BridgeDataAsync()));
        var returned = polls.SelectMany(p => p.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64())).ToList();

        Assert.That(returned, Is.Unique);
        Assert.That(returned, Has.Count.EqualTo(60));
        Assert.That(returned.Order(), Is.EqualTo(ids));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'"), Is.Zero);
    }

    [TestCase("limit=abc", "Invalid limit parameter")]
    [TestCase("limit=1.5", "Invalid limit parameter")]
    [TestCase("offset=-1", "Invalid offset parameter")]
    [TestCase("offset=x", "Invalid offset parameter")]
    [TestCase("since=yesterday", "Invalid since parameter")]
    [TestCase("since=2026-13-01T00:00:00Z", "Invalid since parameter")]
    public async Task BadInboxParametersAre400(string query, string error)
    {
        var id = _shared.ArrangeMessages($"session_params_{Guid.NewGuid():N}", 1).Single();
        var broca = _shared.CreateKeyClient(_shared.BridgeKey());
        await (await broca.GetAsync($"/api/v1/?action=inbox&{query}")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, error);
        Assert.That(_shared.Count("SELECT delivery_attempts FROM web_chat_messages WHERE id = @id", new { id }), Is.Zero);
    }

    [TestCase("1000", 100)]
    [TestCase("0", 1)]
    [TestCase("-5", 1)]
    [TestCase("", 50)]
    public async Task TheInboxLimitIsClampedTo1To100(string limit, int expected)
    {
        var app = _emptyInbox.Value;
        var broca = app.CreateKeyClient(app.BridgeKey());
        var data = await (await broca.GetAsync($"/api/v1/?action=inbox&limit={limit}")).BridgeDataAsync();
        Assert.That(data.GetProperty("pagination").GetProperty("limit").GetInt32(), Is.EqualTo(expected));
    }

    [Test]
    public async Task InboxSinceComparesTimesNotStrings()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        app.ArrangeMessages("session_since", 1, timestamp: "2026-01-01T10:00:00Z");
        var later = app.ArrangeMessages("session_since", 1, timestamp: "2026-01-01T12:00:00Z").Single();
        var broca = app.CreateKeyClient(app.BridgeKey());

        // 13:00+02:00 is 11:00Z: as text it sorts after both stored times, as a time only the 12:00Z one is newer.
        var data = await (await broca.GetAsync("/api/v1/?action=inbox&since=" + Uri.EscapeDataString("2026-01-01T13:00:00+02:00"))).BridgeDataAsync();
        Assert.That(data.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()), Is.EqualTo(new[] { later }));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'"), Is.EqualTo(1), "the older message stays waiting");
    }

    [Test]
    public async Task AnAgentsOwnKeyReadsAndAnswersOnlyThatAgentsSessions()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        const string athenaKey = "athena-relay-key-0123456789";
        // Through agent config, as an operator sets it: stored encrypted with its digest (a plain SQL row would not open the bridge).
        var put = await (await app.CreateAdminClientAsync()).PutAsJsonAsync("/api/agents/athena/config/chat_api_key", new { value = athenaKey });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());
        var athenaMessage = app.ArrangeMessages("session_for_athena", 1, agentId: "athena").Single();
        app.ArrangeMessages("session_for_monday", 1, agentId: "monday");
        app.ArrangeMessages("session_for_anyone", 1);

        var athena = app.CreateKeyClient(athenaKey);
        var mine = await (await athena.GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        Assert.That(mine.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()), Is.EqualTo(new[] { athenaMessage }));
        Assert.That(mine.GetProperty("messages")[0].GetProperty("agent_id").GetString(), Is.EqualTo("athena"));

        var rest = await (await app.CreateKeyClient(app.BridgeKey()).GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        Assert.That(rest.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("session_id").GetString()),
            Is.EquivalentTo(new[] { "session_for_monday", "session_for_anyone" }));

        await (await athena.PostAsync("/api/v1/?action=outbox", Json("""{"session_id":"session_for_monday","response":"not mine"}""")))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid session");
        await (await athena.PostAsync("/api/v1/?action=outbox", Json("""{"session_id":"session_for_athena","response":"mine"}"""))).BridgeDataAsync();
        await (await athena.GetAsync("/api/v1/?action=sessions")).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Invalid admin key");
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_responses"), Is.EqualTo(1));

        // A deactivated agent's key stops working.
        using (var db = app.OpenDatabase()) db.Execute("UPDATE agents SET is_active = FALSE WHERE id = 'athena'");
        await (await athena.GetAsync("/api/v1/?action=inbox")).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Invalid API key");
    }

    // ---- outbox and responses ----

    [TestCase("""{"response":"r"}""", "Missing required fields")]
    [TestCase("""{"session_id":"session_outbox"}""", "Missing required fields")]
    [TestCase("""{"session_id":7,"response":"r"}""", "Invalid session ID")]
    [TestCase("""{"session_id":"session_unknown","response":"r"}""", "Invalid session")]
    [TestCase("""{"session_id":"session_outbox","response":"  "}""", "Invalid response")]
    [TestCase("""{"session_id":"session_outbox","response":5}""", "Invalid response")]
    [TestCase("""{"session_id":"session_outbox","response":"r","message_id":"x"}""", "Invalid message ID")]
    [TestCase("""{"session_id":"session_outbox","response":"r","message_id":999999}""", "Invalid message ID")]
    [TestCase("""{not json""", "Invalid JSON")]
    public async Task AnInvalidOutboxPostIs400AndStoresNothing(string body, string error)
    {
        _shared.ArrangeMessages("session_outbox", 1);
        var before = _shared.Count("SELECT COUNT(*) FROM web_chat_responses");
        var broca = _shared.CreateKeyClient(_shared.BridgeKey());
        await (await broca.PostAsync("/api/v1/?action=outbox", Json(body))).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, error);
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_responses"), Is.EqualTo(before));
    }

    [Test]
    public async Task AResponseMayNameTheMessageItAnswersAndResponsesFilterBySinceAndAfterId()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var messageId = app.ArrangeMessages("session_answers", 1).Single();
        var broca = app.CreateKeyClient(app.BridgeKey());
        var first = await (await broca.PostAsJsonAsync("/api/v1/outbox", new { session_id = "session_answers", response = "first", message_id = messageId })).BridgeDataAsync();
        await (await broca.PostAsJsonAsync("/api/v1/outbox", new { session_id = "session_answers", response = "second" })).BridgeDataAsync();
        using (var db = app.OpenDatabase()) db.Execute("UPDATE web_chat_responses SET timestamp = '2026-01-01T10:00:00Z' WHERE response = 'first'");

        var web = app.CreateClient();
        var all = await (await web.GetAsync("/api/v1/responses?session_id=session_answers")).BridgeDataAsync();
        Assert.That(all.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("response").GetString()), Is.EqualTo(new[] { "first", "second" }));
        Assert.That(all.GetProperty("responses")[0].GetProperty("message_id").GetInt64(), Is.EqualTo(messageId));

        var since = await (await web.GetAsync("/api/v1/?action=responses&session_id=session_answers&since=2026-01-01T10:00:01Z")).BridgeDataAsync();
        Assert.That(since.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("response").GetString()), Is.EqualTo(new[] { "second" }));
        var after = await (await web.GetAsync($"/api/v1/?action=responses&session_id=session_answers&after_id={first.GetProperty("response_id").GetInt64()}")).BridgeDataAsync();
        Assert.That(after.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("response").GetString()), Is.EqualTo(new[] { "second" }));
        Assert.That(app.Count("SELECT message_id FROM web_chat_responses WHERE response = 'first'"), Is.EqualTo(messageId));
    }

    [Test]
    public async Task ResponsesOfAnUnknownSessionAreEmptyAndCreateNothing()
    {
        var web = _shared.CreateClient();
        var data = await (await web.GetAsync("/api/v1/?action=responses&session_id=session_never_seen")).BridgeDataAsync();
        Assert.That(data.GetProperty("responses").GetArrayLength(), Is.Zero);
        Assert.That(_shared.Count("SELECT COUNT(*) FROM web_chat_sessions WHERE id = 'session_never_seen'"), Is.Zero);
        await (await web.GetAsync("/api/v1/?action=responses")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Missing session_id parameter");
        await (await web.GetAsync("/api/v1/?action=responses&session_id=nope")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid session ID");
        await (await web.GetAsync("/api/v1/?action=responses&session_id=session_x&since=soon")).AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid since parameter");
    }

    // ---- messages of signed-in users ----

    [Test]
    public async Task AMessageFromASignedInUserRecordsTheUserAndTheChosenAgent()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var alice = await app.CreateClientForRoleAsync("user", "alice");
        var aliceId = app.Count("SELECT id FROM users WHERE username = 'alice'");

        await (await alice.PostMessageAsync(new { session_id = "session_alice_athena", message = "Hello", agent_id = "athena" })).BridgeDataAsync();

        using (var db = app.OpenDatabase())
        {
            var session = db.QuerySingle<(long? UserId, string? AgentId, string Uid)>("SELECT user_id, agent_id, uid FROM web_chat_sessions WHERE id = 'session_alice_athena'");
            Assert.That((session.UserId, session.AgentId), Is.EqualTo(((long?)aliceId, "athena")));
            Assert.That(db.QuerySingle<long?>("SELECT user_id FROM web_chat_messages WHERE session_id = 'session_alice_athena'"), Is.EqualTo(aliceId));
        }
        var inbox = await (await app.CreateKeyClient(app.BridgeKey()).GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        var message = inbox.GetProperty("messages").EnumerateArray().Single();
        Assert.That(message.GetProperty("user_id").GetInt64(), Is.EqualTo(aliceId));
        Assert.That(message.GetProperty("agent_id").GetString(), Is.EqualTo("athena"));
    }

    [Test]
    public async Task AMessageSentWithTheSessionCookieIsAttributedToo()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        await app.CreateClientForRoleAsync("user", "bob");
        var browser = app.CreateClient();
        Assert.That(await SanctumApplication.LoginAsync(browser, "bob", "role-password-1"), Is.Not.Null);
        var bobId = app.Count("SELECT id FROM users WHERE username = 'bob'");

        await (await browser.PostMessageAsync(new { session_id = "session_bob_monday", message = "Hi", agent_id = "monday" }, "/api/v1/messages")).BridgeDataAsync();

        using var db = app.OpenDatabase();
        Assert.That(db.QuerySingle<(long?, string?)>("SELECT user_id, agent_id FROM web_chat_sessions WHERE id = 'session_bob_monday'"),
            Is.EqualTo(((long?)bobId, "monday")));
        Assert.That(db.QuerySingle<long?>("SELECT user_id FROM web_chat_messages WHERE session_id = 'session_bob_monday'"), Is.EqualTo(bobId));
    }

    [Test]
    public async Task AnAnonymousMessageHasNoUser()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        await (await app.CreateClient().PostMessageAsync(new { session_id = "session_anonymous", message = "Hi", agent_id = "timbre" })).BridgeDataAsync();
        using var db = app.OpenDatabase();
        Assert.That(db.QuerySingle<(long?, string?)>("SELECT user_id, agent_id FROM web_chat_sessions WHERE id = 'session_anonymous'"),
            Is.EqualTo(((long?)null, "timbre")));
        Assert.That(db.QuerySingle<long?>("SELECT user_id FROM web_chat_messages WHERE session_id = 'session_anonymous'"), Is.Null);
    }

    [Test]
    public async Task OnlyTheOwnerMayUseASignedInUsersSession()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var carol = await app.CreateClientForRoleAsync("user", "carol");
        var dave = await app.CreateClientForRoleAsync("user", "dave");
        await (await carol.PostMessageAsync(new { session_id = "session_carol", message = "mine", agent_id = "athena" })).BridgeDataAsync();

        await (await dave.PostMessageAsync(new { session_id = "session_carol", message = "intrude" }))
            .AssertBridgeErrorAsync(HttpStatusCode.Forbidden, "Session belongs to another user");
        await (await app.CreateClient().PostMessageAsync(new { session_id = "session_carol", message = "intrude" }))
            .AssertBridgeErrorAsync(HttpStatusCode.Forbidden, "Session belongs to another user");
        await (await app.CreateClient().GetAsync("/api/v1/?action=responses&session_id=session_carol"))
            .AssertBridgeErrorAsync(HttpStatusCode.Forbidden, "Session belongs to another user");
        await (await carol.PostMessageAsync(new { session_id = "session_carol", message = "switch", agent_id = "monday" }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Session is bound to another agent");
        await (await carol.GetAsync("/api/v1/?action=responses&session_id=session_carol")).BridgeDataAsync();
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE session_id = 'session_carol'"), Is.EqualTo(1));
    }

    [Test]
    public async Task AViewerMayNotChatAndAgentsMustBeVisibleAndActive()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var viewer = await app.CreateClientForRoleAsync("viewer");
        await (await viewer.PostMessageAsync(new { session_id = "session_viewer", message = "hi" }))
            .AssertBridgeErrorAsync(HttpStatusCode.Forbidden, "This account may not chat");

        using (var db = app.OpenDatabase())
        {
            db.Execute("UPDATE agents SET visible_to_roles = '[\"admin\"]' WHERE id = 'monday'");
            db.Execute("UPDATE agents SET is_active = FALSE WHERE id = 'timbre'");
        }
        var user = await app.CreateClientForRoleAsync("user");
        await (await user.PostMessageAsync(new { session_id = "session_hidden", message = "hi", agent_id = "monday" }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid agent");
        await (await app.CreateClient().PostMessageAsync(new { session_id = "session_hidden", message = "hi", agent_id = "monday" }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid agent");
        await (await user.PostMessageAsync(new { session_id = "session_inactive", message = "hi", agent_id = "timbre" }))
            .AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid agent");
        var admin = await app.CreateAdminClientAsync();
        await (await admin.PostMessageAsync(new { session_id = "session_admin_monday", message = "hi", agent_id = "monday" })).BridgeDataAsync();
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions"), Is.EqualTo(1));
    }

    // ---- rate limits ----

    [Test]
    public async Task RateLimitsAnswer429WithRetryAfter()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:ChatBridge:AnonymousMessagesPerHourPerAddress"] = "2",
            ["Sanctum:ChatBridge:InboxPerMinute"] = "2",
            ["Sanctum:ChatBridge:ResponsesPerMinute"] = "2",
            ["Sanctum:ChatBridge:OutboxPerMinute"] = "2",
            ["Sanctum:ChatBridge:SessionsPerMinute"] = "2",
        }).AllowAnonymousChat();
        var web = app.CreateClient();
        for (var i = 0; i < 2; i++) await (await web.PostMessageAsync(new { session_id = "session_busy", message = $"m{i}" })).BridgeDataAsync();
        var limited = await web.PostMessageAsync(new { session_id = "session_busy", message = "one too many" });
        await AssertRateLimitedAsync(limited, "Rate limit exceeded: too many messages from this address", maxWait: 3600);
        // The limit comes before the fields are checked.
        await AssertRateLimitedAsync(await web.PostAsync("/api/v1/?action=messages", Json("""{"session_id":"session_busy","message":""}""")),
            "Rate limit exceeded: too many messages from this address", maxWait: 3600);
        // Counted per address: another session id from the same address is refused as well.
        await AssertRateLimitedAsync(await web.PostMessageAsync(new { session_id = "session_calm", message = "hi" }),
            "Rate limit exceeded: too many messages from this address", maxWait: 3600);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(2));

        for (var i = 0; i < 2; i++) await (await web.GetAsync("/api/v1/?action=responses&session_id=session_busy")).BridgeDataAsync();
        await AssertRateLimitedAsync(await web.GetAsync("/api/v1/?action=responses&session_id=session_busy"));

        var broca = app.CreateKeyClient(app.BridgeKey());
        for (var i = 0; i < 2; i++) await (await broca.GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        await AssertRateLimitedAsync(await broca.GetAsync("/api/v1/?action=inbox"));
        for (var i = 0; i < 2; i++) await (await broca.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_busy", response = $"r{i}" })).BridgeDataAsync();
        await AssertRateLimitedAsync(await broca.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_busy", response = "r" }));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_responses"), Is.EqualTo(2));

        // Counted per key: the admin key has its own allowance.
        var admin = app.CreateKeyClient(app.BridgeKey("chat_admin_key"));
        await (await admin.GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        for (var i = 0; i < 2; i++) await (await admin.GetAsync("/api/v1/?action=sessions")).BridgeDataAsync();
        await AssertRateLimitedAsync(await admin.GetAsync("/api/v1/?action=sessions"));
    }

    internal static async Task AssertRateLimitedAsync(HttpResponseMessage response, string error = "Rate limit exceeded", int maxWait = 60)
    {
        var body = await response.AssertBridgeErrorAsync(HttpStatusCode.TooManyRequests, error);
        var header = response.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.That(header, Is.InRange(1, maxWait));
        Assert.That(body.GetProperty("retry_after").GetInt32(), Is.EqualTo((int)header!.Value));
    }

    /// <summary>A body sent without Content-Length (chunked), so only reading it reveals its size.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
