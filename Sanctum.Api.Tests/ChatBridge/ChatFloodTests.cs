namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>Nobody can flood the public chat: anonymous chat is off unless allowed, and every poster has limits.</summary>
public class ChatFloodTests
{
    private const string ByAddress = "Rate limit exceeded: too many messages from this address";

    private static object Message(string session, string text = "hello") => new { session_id = session, message = text };

    [Test]
    public async Task AnonymousChatIsOffUntilTheSettingTurnsItOn()
    {
        await using var app = new SanctumApplication();
        var web = app.CreateClient();
        await (await web.PostMessageAsync(Message("session_nobody"))).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Authentication required: sign in to chat");
        app.AllowAnonymousChat(allow: false);
        await (await web.PostMessageAsync(Message("session_nobody"))).AssertBridgeErrorAsync(HttpStatusCode.Unauthorized, "Authentication required: sign in to chat");
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions"), Is.Zero);

        // A signed-in member chats either way; the admin API sets the boolean like any other setting.
        var admin = await app.CreateAdminClientAsync();
        await (await admin.PostMessageAsync(Message("session_member"))).BridgeDataAsync();
        var put = await admin.PutAsJsonAsync("/api/config/chat_allow_anonymous", new { value = "true", type = "boolean", category = "chat" });
        Assert.That(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await (await web.PostMessageAsync(Message("session_nobody"))).BridgeDataAsync();
    }

    [Test]
    public async Task ABurstOf50FromOneAddressPassesAndRotatingSessionIdsDoesNotLiftTheLimit()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var web = app.CreateClient();
        for (var i = 0; i < 50; i++) await (await web.PostMessageAsync(Message($"session_burst_{i}"))).BridgeDataAsync();

        var refused = await web.PostMessageAsync(Message("session_brand_new"));
        await ChatBridgeTests.AssertRateLimitedAsync(refused, ByAddress, maxWait: 3600);
        await ChatBridgeTests.AssertRateLimitedAsync(await web.PostMessageAsync(Message("session_burst_3")), ByAddress, maxWait: 3600);
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(50));

        // Signed-in users are limited per account, not per address.
        var member = await app.CreateClientForRoleAsync("user");
        await (await member.PostMessageAsync(Message("session_member_after_flood"))).BridgeDataAsync();
    }

    [Test]
    public async Task AllAnonymousAddressesTogetherHaveAnHourlyLimit()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:ChatBridge:AnonymousMessagesPerHourPerAddress"] = "100",
            ["Sanctum:ChatBridge:AnonymousMessagesPerHour"] = "3",
        }).AllowAnonymousChat();
        var web = app.CreateClient();
        for (var i = 0; i < 3; i++) await (await web.PostMessageAsync(Message($"session_total_{i}"))).BridgeDataAsync();
        await ChatBridgeTests.AssertRateLimitedAsync(await web.PostMessageAsync(Message("session_total_x")), ByAddress, maxWait: 3600);
    }

    [Test]
    public async Task AnonymousTextStoredPerDayIsLimitedInBytes()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:ChatBridge:AnonymousBytesPerDayPerAddress"] = "100000",
        }).AllowAnonymousChat();
        var web = app.CreateClient();
        // 9,000 characters of three UTF-8 bytes each: 27,000 bytes a message, so the fourth does not fit in 100,000.
        var text = new string('€', 9000);
        for (var i = 0; i < 3; i++) await (await web.PostMessageAsync(Message("session_bytes", text))).BridgeDataAsync();
        var refused = await web.PostMessageAsync(Message("session_bytes", text));
        await ChatBridgeTests.AssertRateLimitedAsync(refused, "Rate limit exceeded: too much anonymous text stored today", maxWait: 86400);
        await (await web.PostMessageAsync(Message("session_bytes", "short"))).BridgeDataAsync();
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(4));
    }

    [Test]
    public async Task ASignedInUserIsLimitedPerAccountWhateverTheSession()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:MessagesPerMinute"] = "3" });
        var alice = await app.CreateClientForRoleAsync("user");
        var bob = await app.CreateClientForRoleAsync("user");
        for (var i = 0; i < 3; i++) await (await alice.PostMessageAsync(Message($"session_alice_{i}"))).BridgeDataAsync();
        await ChatBridgeTests.AssertRateLimitedAsync(await alice.PostMessageAsync(Message("session_alice_new")),
            "Rate limit exceeded: too many messages from this account");
        await (await bob.PostMessageAsync(Message("session_bob"))).BridgeDataAsync();
    }
}
