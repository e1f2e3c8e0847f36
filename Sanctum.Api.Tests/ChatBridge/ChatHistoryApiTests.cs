namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>A signed-in user's conversations kept on the server: /api/chat/sessions and its pages of messages.</summary>
public class ChatHistoryApiTests
{
    [Test]
    public async Task AUsersSessionsAndTheirMessagesAndRepliesComeBackInOrderWithDeliveryState()
    {
        await using var app = new SanctumApplication();
        var alice = await app.CreateClientForRoleAsync("user");
        var relay = app.CreateKeyClient(app.BridgeKey());
        await (await alice.PostMessageAsync(new { session_id = "session_alice_monday", message = "first", agent_id = "monday" })).BridgeDataAsync();
        await relay.GetAsync("/api/v1/?action=inbox");
        await (await relay.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_alice_monday", response = "reply one" })).BridgeDataAsync();
        await (await alice.PostMessageAsync(new { session_id = "session_alice_monday", message = "second", agent_id = "monday" })).BridgeDataAsync();
        await (await alice.PostMessageAsync(new { session_id = "session_alice_athena", message = "to athena", agent_id = "athena" })).BridgeDataAsync();

        var sessions = await alice.GetFromJsonAsync<JsonElement>("/api/chat/sessions");
        var items = sessions.GetProperty("items").EnumerateArray().ToList();
        Assert.That(items.Select(s => s.GetProperty("id").GetString()), Is.EquivalentTo(new[] { "session_alice_monday", "session_alice_athena" }));
        var monday = items.Single(s => s.GetProperty("id").GetString() == "session_alice_monday");
        Assert.That((monday.GetProperty("agent_id").GetString(), monday.GetProperty("message_count").GetInt32(), monday.GetProperty("response_count").GetInt32()),
            Is.EqualTo(("monday", 2, 1)));
        Assert.That(monday.GetProperty("created_at").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));
        var onlyAthena = await alice.GetFromJsonAsync<JsonElement>("/api/chat/sessions?agent_id=athena");
        Assert.That(onlyAthena.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()), Is.EqualTo(new[] { "session_alice_athena" }));

        var page = await alice.GetFromJsonAsync<JsonElement>("/api/chat/sessions/session_alice_monday/messages");
        var lines = page.GetProperty("items").EnumerateArray()
            .Select(i => (i.GetProperty("kind").GetString(), i.GetProperty("text").GetString(), i.TryGetProperty("delivery_state", out var d) ? d.GetString() : null))
            .ToList();
        Assert.That(lines, Is.EqualTo(new (string?, string?, string?)[] { ("message", "first", "answered"), ("response", "reply one", null), ("message", "second", "waiting") }));
        Assert.That(page.GetProperty("next_before").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(page.GetProperty("session").GetProperty("id").GetString(), Is.EqualTo("session_alice_monday"));
    }

    [Test]
    public async Task AnotherUsersSessionIs404EvenForAnAdminAndAnonymousSessionsAreNobodysHistory()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var alice = await app.CreateClientForRoleAsync("user");
        var bob = await app.CreateClientForRoleAsync("user");
        var admin = await app.CreateAdminClientAsync();
        await (await alice.PostMessageAsync(new { session_id = "session_private", message = "secret plans" })).BridgeDataAsync();
        await (await app.CreateClient().PostMessageAsync(new { session_id = "session_public", message = "anyone" })).BridgeDataAsync();

        foreach (var other in new[] { bob, admin })
        {
            var response = await other.GetAsync("/api/chat/sessions/session_private/messages");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("secret plans"));
            Assert.That((await other.GetFromJsonAsync<JsonElement>("/api/chat/sessions")).GetProperty("items").GetArrayLength(), Is.Zero);
            Assert.That((await other.GetAsync("/api/chat/sessions/session_public/messages")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
        Assert.That((await app.CreateClient().GetAsync("/api/chat/sessions")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task PagesGoBackwardsWithNextBeforeUntilTheStart()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:MessagesPerMinute"] = "1000" });
        var alice = await app.CreateClientForRoleAsync("user");
        var relay = app.CreateKeyClient(app.BridgeKey());
        var expected = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            await (await alice.PostMessageAsync(new { session_id = "session_long", message = $"q{i}" })).BridgeDataAsync();
            await relay.GetAsync("/api/v1/?action=inbox");
            await (await relay.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_long", response = $"a{i}" })).BridgeDataAsync();
            expected.Add($"q{i}");
            expected.Add($"a{i}");
        }

        var seen = new List<string>();
        string? before = null;
        var pages = 0;
        do
        {
            var url = "/api/chat/sessions/session_long/messages?limit=4" + (before is null ? "" : "&before=" + Uri.EscapeDataString(before));
            var page = await alice.GetFromJsonAsync<JsonElement>(url);
            seen.InsertRange(0, page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("text").GetString()!));
            before = page.GetProperty("next_before").GetString();
            Assert.That(++pages, Is.LessThan(10));
        } while (before is not null);
        Assert.That(seen, Is.EqualTo(expected));
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=101", "limit")]
    [TestCase("before=abc", "before")]
    [TestCase("before=1.2.3", "before")]
    [TestCase("before=-1.5", "before")]
    public async Task BadPagingIs400AndNamesTheField(string query, string field)
    {
        await using var app = new SanctumApplication();
        var alice = await app.CreateClientForRoleAsync("user");
        await (await alice.PostMessageAsync(new { session_id = "session_paging_bad", message = "hi" })).BridgeDataAsync();
        var response = await alice.GetAsync($"/api/chat/sessions/session_paging_bad/messages?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
    }
}
