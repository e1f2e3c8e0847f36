using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

/// <summary>/agents/{id}: every field create-agent sets, readable and changeable afterwards; deactivation asks first.</summary>
public class AgentPageTests : BrowserTest
{
    private async Task<string> CreateAgentAsync(bool withConfig = true)
    {
        var id = "ag-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = await AdminClientAsync();
        var created = await admin.PostAsJsonAsync("/api/agents", new { id, name = "Vega", display_name = "Vega Prime", description = "Star charts" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        if (withConfig)
        {
            foreach (var (key, value, type) in new[] { ("primary_model", "llama3", "string"), ("temperature", "0.4", "number"), ("core_instructions", "Be brief.", "string") })
            {
                var put = await admin.PutAsJsonAsync($"/api/agents/{id}/config/{key}", new { value, type });
                Assert.That((int)put.StatusCode, Is.LessThan(300), await put.Content.ReadAsStringAsync());
            }
        }
        return id;
    }

    [OwnPages]
    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminSeesWhatCreateAgentSetAndChangesEveryField(int width, int height)
    {
        var id = await CreateAgentAsync();
        var viewer = CreateUser("viewer");
        long viewerId;
        using (var db = App.OpenDatabase()) viewerId = db.ExecuteScalar<long>("SELECT id FROM users WHERE username = @viewer", new { viewer });
        var page = await SignedInPageAsync(width, height);

        await page.GotoAsync($"/agents/{id}");
        await Expect(page.Locator("[data-testid=agent-title]")).ToHaveTextAsync("Vega Prime");
        await Expect(page.Locator("input[name=name]")).ToHaveValueAsync("Vega");
        await Expect(page.Locator("input[name=primary_model]")).ToHaveValueAsync("llama3");
        await Expect(page.Locator("input[name=temperature]")).ToHaveValueAsync("0.4");
        await Expect(page.Locator("textarea[name=core_instructions]")).ToHaveValueAsync("Be brief.");
        await Expect(page.Locator("input[name=is_active]")).ToBeCheckedAsync();

        await page.FillAsync("input[name=display_name]", "Vega Two");
        await page.FillAsync("textarea[name=description]", "");
        await page.SelectOptionAsync("select[name=status]", "Degraded");
        await page.FillAsync("input[name=fallback_model]", "mistral");
        await page.FillAsync("input[name=temperature]", "1.1");
        await page.FillAsync("input[name=max_tokens]", "1024");
        await page.FillAsync("textarea[name=core_instructions]", "Be thorough.");
        await page.FillAsync("input[name=primary_model]", "");
        await page.UncheckAsync("input[name=visible_to_roles][value=user]");
        await page.UncheckAsync("input[name=users_everyone]");
        await page.CheckAsync($"input[name=visible_to_users][value=\"{viewerId}\"]");
        await page.ClickAsync("form [type=submit]");
        await Expect(page.Locator("#notice")).ToContainTextAsync("Saved Vega Two.");
        await AssertNoSidewaysScrollAsync(page, "the agent page");

        using (var db = App.OpenDatabase())
        {
            var agent = db.QuerySingle<(string DisplayName, string? Description, string Status, string Roles, string Users)>(
                "SELECT display_name, description, status, visible_to_roles, visible_to_users FROM agents WHERE id = @id", new { id });
            Assert.That(agent.DisplayName, Is.EqualTo("Vega Two"));
            Assert.That(agent.Description, Is.Null.Or.Empty);
            Assert.That(agent.Status, Is.EqualTo("Degraded"));
            Assert.That(agent.Roles, Is.EqualTo("[\"admin\",\"viewer\"]"));
            Assert.That(agent.Users, Is.EqualTo($"[{viewerId}]"));
            var config = db.Query<(string Key, string Value)>(
                "SELECT config_key, config_value FROM agent_configs WHERE agent_id = @id ORDER BY config_key", new { id }).AsList();
            Assert.That(config, Is.EqualTo(new[]
            {
                ("core_instructions", "Be thorough."), ("fallback_model", "mistral"), ("max_tokens", "1024"), ("temperature", "1.1"),
            }), "an emptied primary model is removed");
        }

        // What was saved is what the page shows next time.
        await page.ReloadAsync();
        await Expect(page.Locator("input[name=fallback_model]")).ToHaveValueAsync("mistral");
        await Expect(page.Locator("input[name=visible_to_roles][value=user]")).Not.ToBeCheckedAsync();
        await Expect(page.Locator($"input[name=visible_to_users][value=\"{viewerId}\"]")).ToBeCheckedAsync();
    }

    [Test]
    public async Task DeactivatingAsksFirstAndSaysWhatHappensToItsToolsAndChats()
    {
        var id = await CreateAgentAsync(withConfig: false);
        using (var db = App.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, category, route_path) VALUES (@tool, 'Star map', @id, @route)",
                new { tool = id + "-map", id, route = $"/{id}-map" });
        await SignInAsAdminAsync();
        await Page.GotoAsync($"/agents/{id}");

        await Page.ClickAsync("[data-testid=toggle-active]");
        var dialog = Page.Locator("[data-testid=confirm-dialog]");
        await Expect(dialog).ToContainTextAsync("1 tool");
        await Expect(dialog).ToContainTextAsync("conversations are kept");
        await Page.ClickAsync("[data-testid=confirm-no]");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_active FROM agents WHERE id = @id", new { id }), Is.EqualTo(1));

        await Page.ClickAsync("[data-testid=toggle-active]");
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("[data-testid=active]")).ToHaveTextAsync("Inactive");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_active FROM agents WHERE id = @id", new { id }), Is.Zero);

        // Admins still reach its tab and tools on the grid; the chat switcher no longer offers it.
        await Page.GotoAsync($"/settings#{id}");
        await Expect(Page.Locator($"[data-tool-id=\"{id}-map\"]")).ToBeVisibleAsync();
        await Page.GotoAsync("/");
        await Expect(Page.Locator($"#agent-select option[value=\"{id}\"]")).ToHaveCountAsync(0);

        await Page.GotoAsync($"/agents/{id}");
        await Page.ClickAsync("[data-testid=toggle-active]"); // activating asks nothing
        await Expect(Page.Locator("[data-testid=active]")).ToHaveTextAsync("Active");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_active FROM agents WHERE id = @id", new { id }), Is.EqualTo(1));
    }

    [Test]
    public async Task ViewersReadTheAgentButCannotChangeIt()
    {
        var id = await CreateAgentAsync();
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync($"/agents/{id}");
        await Expect(Page.Locator("input[name=primary_model]")).ToHaveValueAsync("llama3");
        await Expect(Page.Locator("input[name=name]")).ToBeDisabledAsync();
        await Expect(Page.Locator("[data-testid=read-only]")).ToBeVisibleAsync();
        await Expect(Page.Locator("form [type=submit]")).ToBeHiddenAsync();
        await Expect(Page.Locator("[data-testid=toggle-active]")).ToBeHiddenAsync();

        await Page.GotoAsync("/agents/no-such-agent");
        await Expect(Page.Locator("[data-testid=agent-title]")).ToHaveTextAsync("No such agent");
    }

    [Test]
    public async Task TheAgentPageIsReachedFromItsTabTheChatSwitcherAndTheStatusPage()
    {
        var id = await CreateAgentAsync(withConfig: false);
        using (var db = App.OpenDatabase()) db.Execute("UPDATE agents SET status = 'Degraded' WHERE id = @id", new { id });
        await SignInAsAdminAsync();

        await Page.GotoAsync($"/settings#{id}");
        await Page.ClickAsync("[data-testid=agent-page]");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/agents/{id}");

        await Page.GotoAsync($"/?agent={id}");
        await Expect(Page.Locator("[data-testid=agent-page]")).ToHaveAttributeAsync("href", $"/agents/{id}");

        await Page.GotoAsync("/status");
        await Page.Locator($"[data-kind=agent][data-id=\"{id}\"] [data-testid=attention-link]").ClickAsync();
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/agents/{id}");
        using (var db = App.OpenDatabase()) db.Execute("UPDATE agents SET status = 'Healthy' WHERE id = @id", new { id });
    }

    [Test]
    public async Task LeavingWithUnsavedEditsAsksFirst()
    {
        var id = await CreateAgentAsync(withConfig: false);
        await SignInAsAdminAsync();
        await Page.GotoAsync($"/agents/{id}");
        await Expect(Page.Locator("input[name=name]")).ToHaveValueAsync("Vega");
        await Page.FillAsync("input[name=name]", "Vega edited");
        await Page.ClickAsync("#topbar a[href=\"/status\"]");
        await Expect(Page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("Leave without saving?");
        await Page.ClickAsync("[data-testid=confirm-no]");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/agents/{id}");
        await Expect(Page.Locator("input[name=name]")).ToHaveValueAsync("Vega edited");
    }

    [Test]
    public async Task ADuplicateIdOnCreateShowsAtTheIdField()
    {
        var id = await CreateAgentAsync(withConfig: false);
        await SignInAsAdminAsync();
        await Page.GotoAsync("/create-agent");
        await Page.FillAsync("input[name=name]", "Another");
        await Page.FillAsync("input[name=id]", id);
        await Page.ClickAsync("[data-testid=create]");
        await Expect(Page.Locator("[data-error-for=id]")).ToContainTextAsync("already exists");
        await Expect(Page.Locator("input[name=id]")).ToHaveAttributeAsync("aria-invalid", "true");
    }
}
