using Sanctum.Api.Tests.Broca;

namespace Sanctum.Api.Tests.Browser;

/// <summary>/broca-settings?agent=: one agent's Broca operated from the page, at desktop width and at 390 px.</summary>
public class BrocaPageTests : BrowserTest
{
    private BrocaFolder _folder = null!;
    private long _profile;

    [SetUp]
    public void ArrangeBroca()
    {
        _folder = new BrocaFolder();
        _profile = _folder.AddUser("telegram", "777", "ivy", "Ivy I", messages: 2);
        _folder.AddQueue("pending", 3, _profile);
        _folder.AddQueue("failed", 2, _profile);
        File.WriteAllText(Path.Combine(_folder.LogsPath, "broca.log"), "[2026-12-06 10:00:00] [INFO] runtime: up\n[2026-12-06 10:00:01] [ERROR] queue: Letta unreachable\n");
        using var db = App.OpenDatabase();
        // Each case has a new folder, whose first profile has the same id as the last case's: links of earlier cases go.
        db.Execute("DELETE FROM broca_user_links");
        db.Execute("DELETE FROM tool_instances WHERE tool_id = 'broca'");
        db.Execute("INSERT INTO tool_instances (tool_id, agent_id, name, config) VALUES ('broca', 'athena', 'Athena''s Broca', @config)",
            new { config = JsonSerializer.Serialize(new { home = _folder.Home }) });
    }

    [TearDown]
    public void RemoveFolder() => _folder.Dispose();

    [OwnPages]
    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminFlushesRetriesEditsSettingsPromotesAndReadsLogs(int width, int height)
    {
        var page = await SignedInPageAsync(width, height);
        await page.GotoAsync("/broca-settings?agent=athena");
        await Expect(page.Locator("[data-testid=count-pending]")).ToHaveTextAsync("pending: 3");
        await Expect(page.Locator("[data-testid=queue-row]")).ToHaveCountAsync(5);
        await AssertNoSidewaysScrollAsync(page, "the Broca page");

        await page.ClickAsync("[data-testid=retry-failed]");
        await Expect(page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("Retry 2 failed items?");
        await page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(page.Locator("[data-testid=count-pending]")).ToHaveTextAsync("pending: 5");
        await page.ClickAsync("[data-testid=flush]");
        await Expect(page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("Flush 5 pending items?");
        await page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(page.Locator("[data-testid=count-flushed]")).ToHaveTextAsync("flushed: 5");
        Assert.That(_folder.StatusCounts(), Is.EquivalentTo(new Dictionary<string, long> { ["flushed"] = 5 }));

        await page.FillAsync("#s-refresh", "12");
        await page.ClickAsync("[data-testid=save-settings]");
        await Expect(page.Locator("#settings-form [data-testid=saved]")).ToBeVisibleAsync();
        Assert.That(JsonDocument.Parse(File.ReadAllText(_folder.SettingsPath)).RootElement.GetProperty("queue_refresh").GetInt32(), Is.EqualTo(12));
        await page.FillAsync("#s-refresh", "0");
        await page.ClickAsync("[data-testid=save-settings]");
        await Expect(page.Locator("#settings-form [data-error-for=queue_refresh]")).Not.ToBeEmptyAsync();

        await Expect(page.Locator("input[name=AGENT_API_KEY]")).ToHaveValueAsync("********");
        await page.FillAsync("input[name=AGENT_ID]", "agent-from-page");
        await page.ClickAsync("[data-testid=save-env]");
        await Expect(page.Locator("#env-form [data-testid=saved]")).ToBeVisibleAsync();
        var env = File.ReadAllText(_folder.EnvPath);
        Assert.That(env, Does.Contain("AGENT_ID=agent-from-page").And.Contain("AGENT_API_KEY=sk-live-secret").And.Contain("# Telegram"));

        await page.ClickAsync("[data-testid=promote]");
        await page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(page.Locator("[data-testid=temporary-password]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=user-row]")).ToContainTextAsync("Sanctum user");

        await page.SelectOptionAsync("[data-testid=log-level]", "error");
        await Expect(page.Locator("[data-testid=log-lines]")).ToHaveTextAsync("[2026-12-06 10:00:01] [ERROR] queue: Letta unreachable");
        await AssertNoSidewaysScrollAsync(page, "the Broca page after its actions");

        await page.GotoAsync("/user-management");
        await Expect(page.Locator("[data-testid=identities]").First).ToContainTextAsync("telegram @ivy (athena)");
    }

    [Test]
    public async Task AnAdminConnectsAnotherAgentsFolderAndSeesItsQueue()
    {
        using var folder = new BrocaFolder();
        folder.AddQueue("pending", 4, folder.AddUser("web", "w1", "jo"));
        await SignInAsAdminAsync();
        await Page.GotoAsync("/broca-settings?agent=athena");
        await Page.ClickAsync("#connect-panel summary");
        await Page.SelectOptionAsync("#c-agent", "monday");
        await Page.FillAsync("#c-home", folder.Home + "-missing");
        await Page.ClickAsync("[data-testid=connect]");
        await Expect(Page.Locator("[data-error-for='config/home']")).ToContainTextAsync("No folder");
        await Page.FillAsync("#c-home", folder.Home);
        await Page.ClickAsync("[data-testid=connect]");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("agent=monday"));
        await Expect(Page.Locator("[data-testid=count-pending]")).ToHaveTextAsync("pending: 4");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT health_check FROM tool_instances WHERE tool_id = 'broca' AND agent_id = 'monday'"), Does.Contain("\"broca\""));
    }

    [Test]
    public async Task AViewerSeesTheQueueButNoActions()
    {
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/broca-settings?agent=athena");
        await Expect(Page.Locator("[data-testid=queue-row]")).ToHaveCountAsync(5);
        await Expect(Page.Locator("[data-testid=flush]")).ToHaveCountAsync(0);
        await Expect(Page.Locator("[data-testid=save-settings]")).ToBeHiddenAsync();
        await Expect(Page.Locator("#users-panel")).ToBeHiddenAsync();
    }
}
