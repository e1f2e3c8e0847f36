namespace Sanctum.Api.Tests.Browser;

/// <summary>What each role is offered: viewers and users see no admin actions; admins see them.</summary>
public class RolePagesTests : BrowserTest
{
    private static readonly string[] AdminLinks = ["/user-management", "/system-settings", "/create-agent"];

    [TestCase("viewer")]
    [TestCase("user")]
    public async Task NonAdminsSeeNoAdminActions(string role)
    {
        await SignInAsNewUserAsync(role);

        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-tool-id]")).ToHaveCountAsync(5);
        foreach (var href in AdminLinks) await Expect(Page.Locator($"#topbar a[href=\"{href}\"]")).ToHaveCountAsync(0);

        await Page.GotoAsync("/install-tool");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Install Module");
        await Expect(Page.Locator("#admin-controls")).ToBeHiddenAsync();
        await Expect(Page.Locator("[data-testid=toggle-enabled]")).ToBeHiddenAsync();

        foreach (var path in AdminLinks)
        {
            await Page.GotoAsync(path);
            await Expect(Page.Locator("[data-testid=admins-only]")).ToBeVisibleAsync();
            await Expect(Page.Locator("main form, main button")).ToHaveCountAsync(0);
        }

        await Page.GotoAsync("/chat-settings");
        await Expect(Page.Locator("[data-testid=read-only]")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=save]")).ToBeHiddenAsync();
        await Expect(Page.Locator("input[name=primary_model]")).ToBeDisabledAsync();
    }

    [Test]
    public async Task AViewerCannotChat()
    {
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/");
        await Expect(Page.Locator("#agent-select option")).ToHaveCountAsync(3);
        await Expect(Page.Locator("[data-testid=message-input]")).ToBeDisabledAsync();
        await Expect(Page.Locator("[data-testid=send]")).ToBeDisabledAsync();
    }

    [Test]
    public async Task AnAdminSeesTheAdminActions()
    {
        await SignInAsAdminAsync();

        await Page.GotoAsync("/settings");
        foreach (var href in AdminLinks) await Expect(Page.Locator($"#topbar a[href=\"{href}\"]")).ToHaveCountAsync(1);

        await Page.GotoAsync("/install-tool");
        await Expect(Page.Locator("#admin-controls")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=toggle-enabled]")).ToHaveTextAsync("Disable tool");

        await Page.GotoAsync("/create-agent");
        await Expect(Page.Locator("input[name=id]")).ToBeVisibleAsync();
        await Page.GotoAsync("/chat-settings");
        await Expect(Page.Locator("[data-testid=save]")).ToBeVisibleAsync();
        await Expect(Page.Locator("input[name=primary_model]")).ToBeEnabledAsync();
    }

    [Test]
    public async Task TheStatusPageShowsTheDatabasesCountsAndWhatNeedsAttention()
    {
        using (var db = App.OpenDatabase())
            db.Execute("""
                UPDATE tools SET status = 'Off' WHERE id = 'broca';
                UPDATE agents SET status = 'Healthy', status_source = 'manual' WHERE id IN ('athena', 'monday');
                UPDATE agents SET status = 'Degraded', status_source = 'manual' WHERE id = 'timbre';
                """);
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/status");

        using var check = App.OpenDatabase();
        var tools = check.ExecuteScalar<long>("SELECT COUNT(*) FROM tools");
        var enabled = check.ExecuteScalar<long>("SELECT COUNT(*) FROM tools WHERE is_enabled = TRUE");
        var healthy = check.ExecuteScalar<long>("SELECT COUNT(*) FROM tools WHERE status = 'Healthy'");
        await Expect(Page.Locator("[data-testid=overall-status]")).ToHaveTextAsync("Degraded");
        await Expect(Page.Locator("[data-testid=tools] [data-testid=total]")).ToHaveTextAsync(tools.ToString());
        await Expect(Page.Locator("[data-testid=tools] [data-testid=on]")).ToHaveTextAsync(enabled.ToString());
        await Expect(Page.Locator("[data-testid=tools] [data-status=Healthy]")).ToHaveTextAsync($"Healthy {healthy}");
        await Expect(Page.Locator("[data-testid=tools] [data-status=Off]")).ToHaveTextAsync("Off 1");
        await Expect(Page.Locator("[data-testid=agents] [data-status=Degraded]")).ToHaveTextAsync("Degraded 1");
        await Expect(Page.Locator("[data-testid=schema-version]")).ToHaveTextAsync(
            check.ExecuteScalar<long>("SELECT MAX(\"Version\") FROM \"VersionInfo\"").ToString());
        await Expect(Page.Locator("[data-testid=attention] tr[data-id=broca]")).ToContainTextAsync("Off");
        await Expect(Page.Locator("[data-testid=attention] tr[data-id=timbre]")).ToContainTextAsync("Degraded");

        check.Execute("""
            UPDATE tools SET status = 'Healthy' WHERE id = 'broca';
            UPDATE agents SET status = 'Healthy' WHERE id = 'timbre';
            """);
        await Page.ClickAsync("#refresh");
        await Expect(Page.Locator("[data-testid=overall-status]")).ToHaveTextAsync("Healthy");
        await Expect(Page.Locator("[data-testid=attention] tr")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task AnUnknownPathShowsTheNotFoundPage()
    {
        await SignInAsNewUserAsync("user");
        var response = await Page.GotoAsync("/no-such-tool");
        Assert.That(response!.Status, Is.EqualTo(404));
        await Expect(Page.Locator("[data-testid=not-found] h1")).ToHaveTextAsync("Page not found");
    }
}
