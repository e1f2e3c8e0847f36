using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

public class SettingsGridTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsNewUserAsync("user");

    [TestCase("master")]
    [TestCase("athena")]
    [TestCase("monday")]
    [TestCase("smcp")]
    public async Task EachTabShowsTheDatabasesToolsOfItsCategory(string category)
    {
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, description, emoji, category, status, route_path) VALUES ('smcp-bus', 'SMCP Bus', 'Message bus', '🚌', 'smcp', 'Ready', '/smcp-bus') ON CONFLICT DO NOTHING");

        await Page.GotoAsync("/settings");
        await Page.ClickAsync($"[data-category=\"{category}\"]");
        await Expect(Page.Locator($"[data-category=\"{category}\"]")).ToHaveAttributeAsync("aria-selected", "true");

        using var check = App.OpenDatabase();
        var expected = check.Query<(string Id, string Name, string Status)>(
            "SELECT id, name, status FROM tools WHERE category = @category ORDER BY name, id", new { category }).AsList();
        var cards = Page.Locator("[data-tool-id]");
        await Expect(cards).ToHaveCountAsync(expected.Count);
        if (expected.Count == 0)
        {
            await Expect(Page.Locator("[data-testid=empty]")).ToHaveTextAsync("No tools in this tab yet.");
            return;
        }
        Assert.That(await cards.EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.toolId)"), Is.EqualTo(expected.Select(t => t.Id).ToArray()));
        foreach (var tool in expected)
        {
            var card = Page.Locator($"[data-tool-id=\"{tool.Id}\"]");
            await Expect(card.Locator("[data-testid=name]")).ToHaveTextAsync(tool.Name);
            await Expect(card.Locator("[data-testid=status]")).ToHaveTextAsync(tool.Status);
        }
    }

    [Test]
    public async Task TheSeededGlobalTabHasTheFiveMasterToolsWithTheirEmojiAndLinks()
    {
        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-testid=overall-status]")).ToContainTextAsync("v");
        var card = Page.Locator("[data-tool-id=install-tool]");
        await Expect(card).ToContainTextAsync("🧰");
        await Expect(card).ToContainTextAsync("Install Module");
        await Expect(card).ToContainTextAsync("Quick setup & upgrades");
        await Expect(card.Locator("a[data-testid=open]")).ToHaveAttributeAsync("href", "/install-tool");
        await Expect(Page.Locator("[data-tool-id]")).ToHaveCountAsync(5);

        await card.Locator("a[data-testid=open]").ClickAsync();
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/install-tool");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Install Module");
    }

    [Test]
    public async Task TheGridFollowsAStatusChangeInTheDatabase()
    {
        await Page.GotoAsync("/settings");
        var badge = Page.Locator("[data-tool-id=cron-scheduler] [data-testid=status]");
        await Expect(badge).ToHaveTextAsync("Healthy");
        await Expect(badge).ToHaveClassAsync("badge status-Healthy");

        using (var db = App.OpenDatabase())
            db.Execute("UPDATE tools SET status = 'Degraded' WHERE id = 'cron-scheduler'");
        await Page.ReloadAsync();

        await Expect(badge).ToHaveTextAsync("Degraded");
        await Expect(badge).ToHaveClassAsync("badge status-Degraded");
        await Expect(Page.Locator("[data-testid=overall-status]")).ToContainTextAsync("Degraded");

        using (var db = App.OpenDatabase())
            db.Execute("UPDATE tools SET status = 'Healthy' WHERE id = 'cron-scheduler'");
    }

    [Test]
    public async Task ADisabledToolIsDimmedAndNotALink()
    {
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, category, route_path, is_enabled) VALUES ('old-relay', 'Old relay', 'monday', '/old-relay', FALSE)");

        await Page.GotoAsync("/settings#monday");
        var card = Page.Locator("[data-tool-id=old-relay]");
        await Expect(card).ToHaveClassAsync("card disabled");
        await Expect(card.Locator("a")).ToHaveCountAsync(0);
        await Expect(card).ToContainTextAsync("Disabled");
    }

    [Test]
    public async Task SearchFiltersTheCardsByNameOrDescription()
    {
        await Page.GotoAsync("/settings");
        var cards = Page.Locator("[data-tool-id]");
        await Expect(cards).ToHaveCountAsync(5);

        await Page.FillAsync("input[type=search]", "cron");
        await Expect(cards).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-tool-id=cron-scheduler]")).ToBeVisibleAsync();

        await Page.FillAsync("input[type=search]", "RECOVERY"); // backup-restore's description, any case
        await Expect(cards).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-tool-id=backup-restore]")).ToBeVisibleAsync();

        await Page.FillAsync("input[type=search]", "no tool is called this");
        await Expect(cards).ToHaveCountAsync(0);
        await Expect(Page.Locator("[data-testid=empty]")).ToContainTextAsync("No tool here matches");

        await Page.FillAsync("input[type=search]", "");
        await Expect(cards).ToHaveCountAsync(5);
    }

    [Test]
    public async Task AToolNamedLikeMarkupIsShownAsTextAndRunsNothing()
    {
        const string name = "<img src=x onerror=alert(1)>";
        const string description = "<script>alert('d')</script><b>bold</b>";
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, description, emoji, category, route_path) VALUES ('xss', @name, @description, '<i>e</i>', 'smcp', '/xss-tool')",
                new { name, description });

        await Page.GotoAsync("/settings#smcp");
        var card = Page.Locator("[data-tool-id=xss]");
        await Expect(card.Locator("[data-testid=name]")).ToHaveTextAsync(name);
        await Expect(card.Locator("[data-testid=description]")).ToHaveTextAsync(description);
        await Expect(card.Locator("img, script, b, i")).ToHaveCountAsync(0);

        await card.Locator("a[data-testid=open]").ClickAsync();
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync(name);
        await Expect(Page.Locator("main img, main script")).ToHaveCountAsync(0);
        await Page.WaitForTimeoutAsync(300); // give a would-be onerror handler time to fire
        Assert.That(Dialogs, Is.Empty, "a dialog opened: markup in data was run");
    }

    [Test]
    public async Task ThePagesLoadNothingFromOutsideTheSite()
    {
        foreach (var path in new[] { "/settings", "/", "/status", "/chat-settings", "/install-tool", "/login", "/nothing-here" })
        {
            await Page.GotoAsync(path);
            await Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }
        Assert.That(OutsideRequests, Is.Empty);
    }

    [Test]
    public async Task TheGridAndTheChatAreUsableAt390PixelsWide()
    {
        var narrow = await NewContextAsync(390, 844);
        await SignInAsync(CreateUser("user"), UserPassword, narrow);
        var page = await narrow.NewPageAsync();
        foreach (var path in new[] { "/settings", "/", "/status" })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
            Assert.That(overflow, Is.LessThanOrEqualTo(0), $"{path} scrolls sideways at 390 px");
        }
        await page.GotoAsync("/settings");
        var card = page.Locator("[data-tool-id=install-tool]");
        var box = await card.BoundingBoxAsync();
        Assert.That(box!.Width, Is.LessThanOrEqualTo(390));

        // The page links fold into a menu.
        var statusLink = page.Locator("#topbar a[href=\"/status\"]");
        await Expect(statusLink).ToBeHiddenAsync();
        await page.ClickAsync("#topbar .menu-toggle");
        await statusLink.ClickAsync();
        await Expect(page).ToHaveURLAsync($"{BaseUrl}/status");
        await narrow.CloseAsync();
    }

    [Test]
    public async Task SearchLooksThroughEveryTabAndNamesEachResultsTab()
    {
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, description, category, route_path) VALUES ('smcp-finder', 'Finder relay', 'Looks for broca streams', 'smcp', '/smcp-finder') ON CONFLICT DO NOTHING");

        await Page.GotoAsync("/settings#monday");
        await Page.FillAsync("input[type=search]", "broca");
        var cards = Page.Locator("[data-tool-id]");
        await Expect(cards).ToHaveCountAsync(2);
        await Expect(Page.Locator("[data-tool-id=broca] [data-testid=tab-label]")).ToHaveTextAsync("Athena Prime");
        await Expect(Page.Locator("[data-tool-id=smcp-finder] [data-testid=tab-label]")).ToHaveTextAsync("SMCP");
        await Expect(Page.Locator("[data-category=monday]")).ToHaveAttributeAsync("aria-selected", "true");

        // Any tab open, the same results.
        await Page.ClickAsync("[data-category=master]");
        await Expect(cards).ToHaveCountAsync(2);
        await Page.FillAsync("input[type=search]", "");
        await Expect(cards).ToHaveCountAsync(5);
        await Expect(Page.Locator("[data-testid=tab-label]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task AnAdminOpensADisabledToolFromItsDimmedCard()
    {
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, category, route_path, is_enabled) VALUES ('parked', 'Parked tool', 'smcp', '/parked-tool', FALSE) ON CONFLICT DO NOTHING");
        var page = await SignedInPageAsync(1280, 800);
        await page.GotoAsync("/settings#smcp");
        var card = page.Locator("[data-tool-id=parked]");
        await Expect(card).ToHaveClassAsync("card disabled");
        await card.Locator("a[data-testid=open]").ClickAsync();
        await Expect(page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Parked tool");
        await page.ClickAsync("[data-testid=toggle-enabled]");
        await Expect(page.Locator("#tool-state [data-testid=enabled]")).ToHaveTextAsync("Enabled");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_enabled FROM tools WHERE id = 'parked'"), Is.EqualTo(1));
    }

    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminAddsAToolFromTheGrid(int width, int height)
    {
        var id = $"new-tool-{width}";
        var page = await SignedInPageAsync(width, height);
        await page.GotoAsync("/settings#monday");
        await page.ClickAsync("[data-testid=add-tool]");
        var form = page.Locator("#tool-form");
        await Expect(form.Locator("select[name=category]")).ToHaveValueAsync("monday"); // the open tab
        await form.Locator("input[name=name]").FillAsync($"New Tool {width}");
        await Expect(form.Locator("input[name=id]")).ToHaveValueAsync(id);
        await form.Locator("input[name=route_path]").FillAsync("bad route");
        await form.Locator("input[name=emoji]").FillAsync("🧪");
        await form.Locator("textarea[name=description]").FillAsync("Made in a test");
        await form.Locator("select[name=module_scope]").SelectOptionAsync("agent");
        await form.Locator("textarea[name=config_schema]").FillAsync("{not json");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=config_schema]")).ToContainTextAsync("Not valid JSON");

        await form.Locator("textarea[name=config_schema]").FillAsync("{\"type\": \"object\"}");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=route_path]")).ToContainTextAsync("starting with a single /");

        await form.Locator("input[name=route_path]").FillAsync($"/{id}");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(page.Locator($"[data-tool-id=\"{id}\"]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-category=monday]")).ToHaveAttributeAsync("aria-selected", "true");
        await AssertNoSidewaysScrollAsync(page, "the grid");
        using (var db = App.OpenDatabase())
        {
            var row = db.QuerySingle<(string Name, string Category, string Route, string Emoji, string Scope, string Schema)>(
                "SELECT name, category, route_path, emoji, module_scope, config_schema FROM tools WHERE id = @id", new { id });
            Assert.That(row, Is.EqualTo(($"New Tool {width}", "monday", $"/{id}", "🧪", "agent", "{\"type\":\"object\"}")));
        }

        // The same id again is refused at the id field.
        await page.ClickAsync("[data-testid=add-tool]");
        await form.Locator("input[name=name]").FillAsync("Twin");
        await form.Locator("input[name=id]").FillAsync(id);
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=id]")).ToContainTextAsync("already exists");
    }

    [Test]
    public async Task UsersSeeNoAddToolButton()
    {
        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-tool-id]").First).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=add-tool]")).ToBeHiddenAsync();
    }
}
