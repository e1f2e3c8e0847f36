using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Config;

namespace Sanctum.Api.Tests.Browser;

public class ChatPageTests : BrowserTest
{
    /// <summary>A client holding the bridge's API key (stored encrypted; decrypted here as Broca's installer would be given it).</summary>
    private HttpClient BridgeClient()
    {
        using var db = App.OpenDatabase();
        var stored = db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = 'chat_api_key'");
        var key = App.Services.GetRequiredService<Secrets>().Unprotect(stored);
        Assert.That(key, Is.Not.Empty);
        var bridge = App.CreateClient();
        bridge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return bridge;
    }

    [Test]
    public async Task AMessageReachesTheInboxAndTheReplyAppearsOnThePage()
    {
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/");
        await Page.SelectOptionAsync("#agent-select", "monday");
        await Page.FillAsync("[data-testid=message-input]", "  What is on my list today?  ");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(Page.Locator("[data-testid=messages] [data-testid=message]")).ToContainTextAsync("What is on my list today?");
        await Expect(Page.Locator("[data-testid=message-input]")).ToHaveValueAsync("");
        await Expect(Page.Locator("[data-testid=message] .meta")).ToContainTextAsync("You ·");

        // Broca's side: poll the inbox with the bridge key, then answer through the outbox.
        using var bridge = BridgeClient();
        var inbox = await bridge.GetAsync("/api/v1/?action=inbox&limit=50");
        Assert.That(inbox.StatusCode, Is.EqualTo(HttpStatusCode.OK), await inbox.Content.ReadAsStringAsync());
        var messages = (await inbox.JsonAsync()).GetProperty("data").GetProperty("messages");
        var message = messages.EnumerateArray().Single(m => m.GetProperty("message").GetString() == "What is on my list today?");
        Assert.That(message.GetProperty("agent_id").GetString(), Is.EqualTo("monday"));
        var sessionId = message.GetProperty("session_id").GetString();
        Assert.That(sessionId, Does.Match("^session_[0-9a-f]{32}$"));
        using (var db = App.OpenDatabase())
        {
            var stored = db.QuerySingle<(long UserId, string AgentId)>("""
                SELECT m.user_id, s.agent_id FROM web_chat_messages m JOIN web_chat_sessions s ON s.id = m.session_id
                WHERE m.session_id = @sessionId
                """, new { sessionId });
            Assert.That(stored.UserId, Is.EqualTo(db.ExecuteScalar<long>("SELECT id FROM users WHERE username = @username", new { username })));
            Assert.That(stored.AgentId, Is.EqualTo("monday"));
        }

        var outbox = await bridge.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = sessionId, response = "Two meetings and <b>a dentist</b>." });
        Assert.That(outbox.StatusCode, Is.EqualTo(HttpStatusCode.OK), await outbox.Content.ReadAsStringAsync());

        var reply = Page.Locator("[data-testid=messages] [data-testid=response]");
        await Expect(reply).ToContainTextAsync("Two meetings and <b>a dentist</b>.", new() { Timeout = 8_000 });
        await Expect(reply.Locator("b")).ToHaveCountAsync(0);

        // The history comes back on reload: the sent message from this browser, the reply from the bridge.
        await Page.ReloadAsync();
        await Expect(Page.Locator("#agent-select")).ToHaveValueAsync("monday");
        await Expect(Page.Locator("[data-testid=message]")).ToContainTextAsync("What is on my list today?");
        await Expect(Page.Locator("[data-testid=response]")).ToContainTextAsync("Two meetings");

        // Another agent is another conversation.
        await Page.SelectOptionAsync("#agent-select", "athena");
        await Expect(Page.Locator("[data-testid=message], [data-testid=response]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task TheSwitcherListsTheAgentsTheUserMaySee()
    {
        using (var db = App.OpenDatabase())
            db.Execute("""
                INSERT INTO agents (id, name, display_name, status, visible_to_roles) VALUES ('ops', 'Ops', 'Ops Prime', 'Degraded', '["admin"]');
                INSERT INTO agents (id, name, display_name, status, is_active) VALUES ('gone', 'Gone', 'Gone Prime', 'Healthy', 0);
                """);
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/");
        var options = Page.Locator("#agent-select option");
        await Expect(options).ToHaveCountAsync(3);
        Assert.That(await options.EvaluateAllAsync<string[]>("o => o.map(x => x.value)"), Is.EqualTo(new[] { "athena", "monday", "timbre" }));

        await Page.Context.ClearCookiesAsync();
        await SignInAsAdminAsync();
        await Page.ReloadAsync();
        await Expect(Page.Locator("#agent-select option[value=ops]")).ToHaveTextAsync("Ops Prime (Degraded)");
        await Expect(Page.Locator("#agent-select option[value=gone]")).ToHaveCountAsync(0);
    }
}
