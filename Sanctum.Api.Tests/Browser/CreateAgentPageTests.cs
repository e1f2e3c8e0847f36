namespace Sanctum.Api.Tests.Browser;

public class CreateAgentPageTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    [Test]
    public async Task CreatingAnAgentAddsItsTabAndItsEntryInTheChatSwitcher()
    {
        await Page.GotoAsync("/create-agent");
        await Page.FillAsync("input[name=name]", "Nova Star");
        await Expect(Page.Locator("input[name=id]")).ToHaveValueAsync("nova-star"); // suggested from the name
        await Page.FillAsync("input[name=display_name]", "Nova Prime");
        await Page.FillAsync("input[name=description]", "Research assistant");
        await Page.FillAsync("input[name=primary_model]", "llama3");
        await Page.FillAsync("input[name=fallback_model]", "mistral");
        await Page.FillAsync("input[name=temperature]", "0.4");
        await Page.FillAsync("input[name=max_tokens]", "2048");
        await Page.FillAsync("textarea[name=core_instructions]", "Cite your sources.");
        await Page.UncheckAsync("input[name=visible_to_roles][value=viewer]");
        await Page.ClickAsync("[data-testid=create]");
        await Expect(Page.Locator("[data-testid=created]")).ToContainTextAsync("Nova Prime is ready");

        using (var db = App.OpenDatabase())
        {
            var agent = db.QuerySingle<(string Name, string DisplayName, string Description, string Roles, long Active)>(
                "SELECT name, display_name, description, visible_to_roles, is_active FROM agents WHERE id = 'nova-star'");
            Assert.That(agent, Is.EqualTo(("Nova Star", "Nova Prime", "Research assistant", "[\"admin\",\"user\"]", 1L)));
            var config = db.Query<(string Key, string Value, string Type)>(
                "SELECT config_key, config_value, config_type FROM agent_configs WHERE agent_id = 'nova-star' ORDER BY config_key").AsList();
            Assert.That(config, Is.EqualTo(new[]
            {
                ("core_instructions", "Cite your sources.", "string"),
                ("fallback_model", "mistral", "string"),
                ("max_tokens", "2048", "number"),
                ("primary_model", "llama3", "string"),
                ("temperature", "0.4", "number"),
            }));
        }

        await Page.ClickAsync("text=Open its tab");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/settings#nova-star");
        await Expect(Page.Locator("[data-category=nova-star]")).ToContainTextAsync("Nova Prime");
        await Expect(Page.Locator("[data-category=nova-star]")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(Page.Locator("[data-testid=empty]")).ToHaveTextAsync("No tools in this tab yet.");

        await Page.GotoAsync("/");
        await Expect(Page.Locator("#agent-select option[value=nova-star]")).ToHaveTextAsync("Nova Prime (no relay yet)");
    }

    [Test]
    public async Task ABadIdShowsTheServersFieldErrorAndCreatesNothing()
    {
        // What the server says about this id, asked directly, so the page is shown to display exactly that.
        using var admin = await AdminClientAsync();
        var refused = await admin.PostAsJsonAsync("/api/agents", new { id = "Bad Id!", name = "Bad" });
        var expected = (await refused.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("id")[0].GetString();

        await Page.GotoAsync("/create-agent");
        await Page.FillAsync("input[name=name]", "Bad");
        await Page.FillAsync("input[name=id]", "Bad Id!");
        await Page.ClickAsync("[data-testid=create]");

        await Expect(Page.Locator("[data-error-for=id]")).ToHaveTextAsync(expected!);
        await Expect(Page.Locator("input[name=id]")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Page.Locator("[data-testid=created]")).ToHaveCountAsync(0);
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM agents WHERE name = 'Bad'"), Is.Zero);
    }

    [Test]
    public async Task ATakenIdShowsTheConflict()
    {
        await Page.GotoAsync("/create-agent");
        await Page.FillAsync("input[name=name]", "Athena");
        await Expect(Page.Locator("input[name=id]")).ToHaveValueAsync("athena");
        await Page.ClickAsync("[data-testid=create]");

        await Expect(Page.Locator("#notice")).ToBeVisibleAsync();
        await Expect(Page.Locator("#notice")).ToContainTextAsync("Conflict");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT display_name FROM agents WHERE id = 'athena'"), Is.EqualTo("Athena Prime"));
    }

    [Test]
    public async Task AnOutOfRangeTemperatureIsRefusedBeforeAnythingIsSent()
    {
        await Page.GotoAsync("/create-agent");
        await Page.FillAsync("input[name=name]", "Hot Head");
        await Page.FillAsync("input[name=temperature]", "5");
        await Page.ClickAsync("[data-testid=create]");

        await Expect(Page.Locator("[data-error-for=temperature]")).ToHaveTextAsync("The temperature must be a number from 0 to 2.");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM agents WHERE id = 'hot-head'"), Is.Zero);
    }
}
