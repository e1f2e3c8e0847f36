namespace Sanctum.Api.Tests.Browser;

/// <summary>The generic tool page and the chat settings page.</summary>
public class ToolPagesTests : BrowserTest
{
    [Test]
    public async Task TheGenericToolPageShowsTheToolOfItsRoute()
    {
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/broca-settings");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Broca");
        await Expect(Page.Locator("[data-testid=tool-description]")).ToHaveTextAsync("Streams & tool I/O");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Healthy");
        await Expect(Page.Locator("#facts")).ToContainTextAsync("Agent: Athena Prime");
        await Expect(Page).ToHaveTitleAsync("Broca · Sanctum");
    }

    [Test]
    public async Task AnAdminChangesAToolsStatusAndDisablesIt()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/install-tool");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Healthy");

        await Page.SelectOptionAsync("#admin-controls select[name=status]", "Degraded");
        await Page.ClickAsync("[data-testid=save-status]");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Degraded");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT status FROM tools WHERE id = 'install-tool'"), Is.EqualTo("Degraded"));

        await Page.ClickAsync("[data-testid=toggle-enabled]");
        await Expect(Page.Locator("#tool-state [data-testid=enabled]")).ToHaveTextAsync("Disabled");
        await Expect(Page.Locator("[data-testid=toggle-enabled]")).ToHaveTextAsync("Enable tool");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_enabled FROM tools WHERE id = 'install-tool'"), Is.Zero);

        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-tool-id=install-tool]")).ToHaveClassAsync("card disabled");
        await Expect(Page.Locator("[data-tool-id=install-tool] [data-testid=status]")).ToHaveTextAsync("Degraded");
    }

    [Test]
    public async Task TheToolPageListsInstancesPluginsWithDependenciesAndConfiguration()
    {
        using (var db = App.OpenDatabase())
            db.Execute("""
                INSERT INTO tool_instances (tool_id, agent_id, name, status) VALUES ('install-tool', 'athena', 'Nightly <run>', 'Ready');
                INSERT INTO plugins (tool_id, name, version, status, dependencies) VALUES ('install-tool', 'clock', '1.0', 'Active', '[]');
                INSERT INTO plugins (tool_id, name, version, status, dependencies) VALUES ('install-tool', 'alarm', '2.1', 'Active', '["clock"]');
                INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('max_jobs', '12', 'number', 'tool', 'install-tool');
                """);
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/install-tool");

        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToContainTextAsync("Nightly <run>");
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToContainTextAsync("Athena Prime");
        var alarm = Page.Locator("[data-testid=plugins] tbody tr").Filter(new() { HasText = "alarm" });
        await Expect(alarm).ToContainTextAsync("clock");
        await Expect(Page.Locator("[data-testid=plugins] tbody tr")).ToHaveCountAsync(2);
        await Expect(Page.Locator("[data-testid=configurations] tbody tr")).ToContainTextAsync("max_jobs");
        await Expect(Page.Locator("[data-testid=configurations] tbody tr")).ToContainTextAsync("12");
    }

    [Test]
    public async Task ChatSettingsAreSavedAsTheAgentsConfiguration()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/chat-settings");
        await Page.SelectOptionAsync("select[name=agent]", "timbre");
        await Page.FillAsync("input[name=voice]", "alloy");
        await Page.SelectOptionAsync("select[name=safety_level]", "strict");
        await Page.FillAsync("textarea[name=persona]", "Calm and precise.");
        await Page.ClickAsync("[data-testid=save]");
        await Expect(Page.Locator("#notice")).ToContainTextAsync("Saved the chat settings of Timbre Prime.");

        using (var db = App.OpenDatabase())
        {
            var config = db.Query<(string Key, string Value)>(
                "SELECT config_key, config_value FROM agent_configs WHERE agent_id = 'timbre' ORDER BY config_key").AsList();
            Assert.That(config, Is.EqualTo(new[] { ("persona", "Calm and precise."), ("safety_level", "strict"), ("voice", "alloy") }));
        }

        await Page.GotoAsync("/chat-settings?agent=timbre");
        await Expect(Page.Locator("input[name=voice]")).ToHaveValueAsync("alloy");
        await Expect(Page.Locator("select[name=safety_level]")).ToHaveValueAsync("strict");
        await Page.SelectOptionAsync("select[name=agent]", "athena");
        await Expect(Page.Locator("input[name=voice]")).ToHaveValueAsync("");
    }
}
