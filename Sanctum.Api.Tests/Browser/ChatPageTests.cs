using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;

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
        await Expect(Page.Locator("[data-testid=message] .meta")).ToContainTextAsync("Waiting");

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
        await Expect(Page.Locator("[data-testid=message] .meta")).ToContainTextAsync("You ·");

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
                DELETE FROM chat_relay_polls;
                INSERT INTO agents (id, name, display_name, status, visible_to_roles) VALUES ('ops', 'Ops', 'Ops Prime', 'Degraded', '["admin"]');
                INSERT INTO agents (id, name, display_name, status, is_active) VALUES ('gone', 'Gone', 'Gone Prime', 'Healthy', FALSE);
                """);
        App.SweepRelayPresence();
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/");
        var options = Page.Locator("#agent-select option");
        await Expect(options).ToHaveCountAsync(3);
        Assert.That(await options.EvaluateAllAsync<string[]>("o => o.map(x => x.value)"), Is.EqualTo(new[] { "athena", "monday", "timbre" }));

        await Page.Context.ClearCookiesAsync();
        await SignInAsAdminAsync();
        await Page.ReloadAsync();
        await Expect(Page.Locator("#agent-select option[value=ops]")).ToHaveTextAsync("Ops Prime (no relay yet)");
        await Expect(Page.Locator("#agent-select option[value=gone]")).ToHaveCountAsync(0);
    }

    /// <summary>The user's session id with an agent, as the bridge's inbox sees it (the newest message's session).</summary>
    private string LatestSession(string username)
    {
        using var db = App.OpenDatabase();
        return db.QuerySingle<string>("""
            SELECT s.id FROM web_chat_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = @username ORDER BY s.last_active DESC LIMIT 1
            """, new { username });
    }

    [Test]
    public async Task AFreshBrowserShowsTheWholeConversationAndSignOutForgetsTheSessionId()
    {
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/?agent=timbre");
        await Page.FillAsync("[data-testid=message-input]", "Play something calm");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(Page.Locator("[data-testid=message][data-state]")).ToContainTextAsync("Play something calm");
        var sessionId = LatestSession(username);
        using var bridge = BridgeClient();
        await bridge.GetAsync("/api/v1/?action=inbox");
        (await bridge.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = sessionId, response = "Here is *Clair de lune*." })).EnsureSuccessStatusCode();
        await Expect(Page.Locator("[data-testid=response] em")).ToHaveTextAsync("Clair de lune", new() { Timeout = 8_000 });

        // Another browser (own cookies and storage): the question and the reply are both there, from the server.
        var other = await NewContextAsync();
        try
        {
            await SignInAsync(username, UserPassword, other);
            var second = await other.NewPageAsync();
            await second.GotoAsync("/?agent=timbre");
            await Expect(second.Locator("[data-testid=message]")).ToContainTextAsync("Play something calm");
            await Expect(second.Locator("[data-testid=response]")).ToContainTextAsync("Here is Clair de lune.");
            await Expect(second.Locator("[data-testid=message-state]")).ToContainTextAsync("You ·");
        }
        finally { await other.CloseAsync(); }

        // Only the session id is kept in this browser, and signing out forgets it.
        var keys = await Page.EvaluateAsync<string[]>("Object.keys(localStorage).filter(k => k.startsWith('sanctum.chat.'))");
        Assert.That(keys, Has.Some.EndsWith(".timbre"));
        Assert.That(await Page.EvaluateAsync<string>("JSON.stringify(localStorage)"), Does.Not.Contain("Play something calm"));
        await Page.ClickAsync("[data-testid=sign-out]");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        var left = await Page.EvaluateAsync<string[]>("Object.keys(localStorage).filter(k => k.startsWith('sanctum.chat.') && k !== 'sanctum.chat.agent')");
        Assert.That(left, Is.Empty);
    }

    [Test]
    public async Task WithoutARelayTheChatSaysSoAndTheMessageWaitsUntilARelayComes()
    {
        using (var db = App.OpenDatabase()) db.Execute("DELETE FROM chat_relay_polls");
        App.SweepRelayPresence();
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/?agent=athena");
        await Expect(Page.Locator("[data-testid=presence]")).ToContainTextAsync("No relay has connected to this agent yet");
        await Expect(Page.Locator("#agent-dot")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("status-Off"));
        await Expect(Page.Locator("#agent-select option[value=athena]")).ToHaveTextAsync("Athena Prime (no relay yet)");
        await Page.FillAsync("[data-testid=message-input]", "Anyone there?");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(Page.Locator("[data-testid=message-state]")).ToContainTextAsync("Waiting: no relay connected");

        // A relay comes and takes the message: the page follows.
        using var bridge = BridgeClient();
        var inbox = await (await bridge.GetAsync("/api/v1/?action=inbox")).JsonAsync();
        Assert.That(inbox.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("message").GetString()), Does.Contain("Anyone there?"));
        await Expect(Page.Locator("[data-testid=message-state]")).ToContainTextAsync("Delivered to the relay", new() { Timeout = 8_000 });
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-testid=presence]")).ToContainTextAsync("A relay is connected");
        await Expect(Page.Locator("#agent-dot")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("status-Healthy"));

        // The relay goes away: the last poll ages past the window.
        using (var db = App.OpenDatabase()) db.Execute("UPDATE chat_relay_polls SET last_poll_at = '2026-01-01T10:00:00Z'");
        App.SweepRelayPresence();
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-testid=presence]")).ToContainTextAsync("No relay connected since");
        await Expect(Page.Locator("#agent-dot")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("status-Degraded"));
    }

    [Test]
    public async Task RepliesRenderSafeMarkdownAndHostileInputStaysText()
    {
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/?agent=monday");
        await Page.FillAsync("[data-testid=message-input]", "Format something");
        await Page.ClickAsync("[data-testid=send]");
        await Expect(Page.Locator("[data-testid=message][data-state]")).ToContainTextAsync("Format something");
        var sessionId = LatestSession(username);
        const string hostile = """
            **Bold** and _soft_ <img src=x onerror="alert('img')"> <script>alert('s')</script>
            line two with `<b>code</b>`

            - [safe](https://example.com/docs?a=1)
            - [evil](javascript:alert('js'))
            - [data](data:text/html,<script>alert(1)</script>)
            1. <a href="https://evil.test">raw anchor</a>

            ```
            <iframe src="https://evil.test"></iframe>
            ```
            """;
        using var bridge = BridgeClient();
        await bridge.GetAsync("/api/v1/?action=inbox");
        (await bridge.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = sessionId, response = hostile })).EnsureSuccessStatusCode();

        var reply = Page.Locator("[data-testid=response]");
        await Expect(reply.Locator("strong")).ToHaveTextAsync("Bold", new() { Timeout = 8_000 });
        await Expect(reply.Locator("em")).ToHaveTextAsync("soft");
        await Expect(reply.Locator("p br")).ToHaveCountAsync(1);
        await Expect(reply.Locator("p code")).ToHaveTextAsync("<b>code</b>");
        await Expect(reply.Locator("ul li")).ToHaveCountAsync(3);
        await Expect(reply.Locator("ol li")).ToContainTextAsync("<a href=\"https://evil.test\">raw anchor</a>");
        await Expect(reply.Locator("pre code")).ToHaveTextAsync("<iframe src=\"https://evil.test\"></iframe>");
        // One link only, the https one, and it cannot reach back to this page.
        var links = reply.Locator("a");
        await Expect(links).ToHaveCountAsync(1);
        await Expect(links).ToHaveAttributeAsync("href", "https://example.com/docs?a=1");
        await Expect(links).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(reply).ToContainTextAsync("[evil](javascript:alert('js'))");
        await Expect(reply).ToContainTextAsync("<img src=x onerror=\"alert('img')\">");
        await Expect(reply.Locator("img, script, iframe, b")).ToHaveCountAsync(0);
        await Page.WaitForTimeoutAsync(500);
        Assert.That(Dialogs, Is.Empty);
        Assert.That(OutsideRequests, Is.Empty);
    }

    [Test]
    public async Task OverTheRateLimitThePageShowsTheWaitAndKeepsTheText()
    {
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/?agent=athena");
        await Page.FillAsync("[data-testid=message-input]", "Am I too fast?");
        // Just before the page sends, the same account posts its whole per-minute allowance elsewhere (the bucket
        // refills one message every 2 s, so the flood comes last, not before a sign-in that may take that long).
        using (var elsewhere = App.CreateClient())
        {
            var token = await SanctumApplication.LoginAsync(elsewhere, username, UserPassword);
            elsewhere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            for (var i = 0; ; i++)
            {
                var response = await elsewhere.PostAsJsonAsync("/api/v1/?action=messages", new { session_id = $"session_flood_{i}", message = "flood" });
                if (response.StatusCode == HttpStatusCode.TooManyRequests) break;
                Assert.That(i, Is.LessThan(100), "no limit was reached");
            }
        }
        await Page.ClickAsync("[data-testid=send]");
        await Expect(Page.Locator("[data-testid=chat-state]")).ToContainTextAsync("you can send again in");
        await Expect(Page.Locator("[data-testid=message-input]")).ToHaveValueAsync("Am I too fast?");
        await Expect(Page.Locator("[data-testid=send]")).ToBeDisabledAsync();
        await Expect(Page.Locator("[data-testid=message]")).ToHaveCountAsync(0);
    }
}
