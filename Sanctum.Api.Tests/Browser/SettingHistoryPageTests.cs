namespace Sanctum.Api.Tests.Browser;

/// <summary>A setting's history (who, when, old → new) and its rollback, on every page that edits settings.</summary>
public class SettingHistoryPageTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    private string? Stored(string sql)
    {
        using var db = App.OpenDatabase();
        return db.ExecuteScalar<string>(sql);
    }

    private async Task RollBackAsync(string version)
    {
        var dialog = Page.Locator("[data-testid=history-dialog]");
        await dialog.Locator($"tr[data-version='{version}'] [data-action=rollback]").ClickAsync();
        await Page.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
    }

    [Test]
    public async Task SystemSettingsShowsWhoChangedAValueAndRollsBackToTheSeededOne()
    {
        var admin = await AdminClientAsync();
        (await admin.PutAsJsonAsync("/api/config/letta_server_port", new { value = 8283 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/config/anthropic_api_key", new { value = "sk-ant-history-1" })).EnsureSuccessStatusCode();

        await Page.GotoAsync("/system-settings");
        var row = Page.Locator("[data-config-row=letta_server_port]");
        await Expect(row.Locator("[data-config-key=letta_server_port]")).ToHaveValueAsync("8283");
        await row.Locator("[data-action=history]").ClickAsync();
        var dialog = Page.Locator("[data-testid=history-dialog]");
        await Expect(dialog.Locator("tr[data-version='1'] [data-testid=who]")).ToHaveTextAsync("admin");
        await Expect(dialog.Locator("tr[data-version='1'] [data-testid=change]")).ToHaveTextAsync("set: 443 → 8283");
        await Expect(dialog.Locator("tr[data-version='0'] [data-testid=change]")).ToHaveTextAsync("443");
        await RollBackAsync("0");

        await Expect(Page.Locator("#notice")).ToContainTextAsync("Rolled letta_server_port back to before its first change.");
        await Expect(Page.Locator("[data-config-row=letta_server_port] [data-config-key=letta_server_port]")).ToHaveValueAsync("443");
        Assert.That(Stored("SELECT config_value FROM system_config WHERE config_key = 'letta_server_port'"), Is.EqualTo("443"));

        // A secret's history says that it changed, never what it was.
        await Page.Locator("[data-config-row=anthropic_api_key] [data-action=history]").ClickAsync();
        await Expect(dialog.Locator("tr[data-version='1'] [data-testid=change]")).ToContainTextAsync("→ changed");
        await Expect(dialog).Not.ToContainTextAsync("sk-ant-history-1");
        await dialog.Locator("[data-testid=history-close]").ClickAsync();
        Assert.That(PageErrors, Is.Empty);
    }

    [Test]
    public async Task TheAgentPageRollsAModelSettingBack()
    {
        var admin = await AdminClientAsync();
        (await admin.PutAsJsonAsync("/api/agents/athena/config/primary_model", new { value = "llama3", type = "string" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/agents/athena/config/primary_model", new { value = "mistral", type = "string" })).EnsureSuccessStatusCode();

        await Page.GotoAsync("/agents/athena");
        await Expect(Page.Locator("#primary_model")).ToHaveValueAsync("mistral");
        await Page.Locator("[data-action=history][aria-label='History of primary model']").ClickAsync();
        await RollBackAsync("1");

        await Expect(Page.Locator("#primary_model")).ToHaveValueAsync("llama3");
        Assert.That(Stored("SELECT config_value FROM agent_configs WHERE agent_id = 'athena' AND config_key = 'primary_model'"), Is.EqualTo("llama3"));
        Assert.That(PageErrors, Is.Empty);
    }

    [Test]
    public async Task TheToolPagesConfigurationListRollsAValueBack()
    {
        var admin = await AdminClientAsync();
        (await admin.PutAsJsonAsync("/api/configurations/tool/install-tool/max_jobs", new { value = "12", type = "number" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("/api/configurations/tool/install-tool/max_jobs", new { value = "20", type = "number" })).EnsureSuccessStatusCode();

        await Page.GotoAsync("/install-tool");
        var row = Page.Locator("[data-testid=configurations] tbody tr").Filter(new() { HasText = "max_jobs" });
        await Expect(row).ToContainTextAsync("20");
        await row.Locator("[data-action=history]").ClickAsync();
        await Expect(Page.Locator("[data-testid=history-dialog] tr[data-version='0'] [data-testid=change]")).ToHaveTextAsync("(did not exist)");
        await RollBackAsync("1");

        await Expect(row).ToContainTextAsync("12");
        Assert.That(Stored("SELECT value FROM configurations WHERE scope = 'tool' AND scope_id = 'install-tool' AND key = 'max_jobs'"), Is.EqualTo("12"));
        Assert.That(PageErrors, Is.Empty);
    }
}
