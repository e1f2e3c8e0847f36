using Sanctum.Api.Tests.Peers;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// The agent page's Letta panel against <see cref="LettaStandIn"/>: Letta's view of a linked agent, a block edited from
/// the page (and refused when Letta's value changed since the page loaded), and a Letta that does not answer.
/// </summary>
[OwnPages]
public class AgentLettaPanelTests : BrowserTest
{
    private LettaStandIn _letta = null!;

    [OneTimeSetUp]
    public async Task StartLettaAsync() => _letta = await LettaStandIn.StartAsync();

    [OneTimeTearDown]
    public async Task StopLettaAsync()
    {
        if (_letta is not null) await _letta.DisposeAsync();
    }

    private async Task<(string Agent, string Uid)> LinkedAgentAsync(string? url = null)
    {
        using var admin = await AdminClientAsync();
        foreach (var (key, value) in new[] { ("letta_server_url", url ?? _letta.BaseUrl), ("letta_server_password", LettaStandIn.Password) })
        {
            var set = await admin.PutAsJsonAsync($"/api/config/{key}", new { value });
            Assert.That((int)set.StatusCode, Is.InRange(200, 201), await set.Content.ReadAsStringAsync());
        }
        var id = "lp-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/agents", new { id, name = "Orion" })).EnsureSuccessStatusCode();
        var uid = _letta.AddAgent(name: "Orion on Letta", human: "Jane, café ☕", limit: 200);
        var link = await admin.PutAsJsonAsync($"/api/agents/{id}/letta", new { letta_uid = uid });
        Assert.That(link.StatusCode, Is.EqualTo(HttpStatusCode.OK), await link.Content.ReadAsStringAsync());
        return (id, uid);
    }

    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminReadsLettasViewAndEditsABlock(int width, int height)
    {
        var (agent, uid) = await LinkedAgentAsync();
        var page = await SignedInPageAsync(width, height);

        await page.GotoAsync($"/agents/{agent}");

        var panel = page.Locator("[data-testid=letta-panel]");
        await Expect(panel.Locator("[data-testid=letta-model]")).ToHaveTextAsync("gpt-4o-mini");
        await Expect(panel.Locator("[data-testid=letta-tools]")).ToHaveTextAsync("web_search");
        await Expect(panel.Locator("[data-testid=letta-system]")).ToHaveTextAsync("You are Athena. Answer briefly.");
        var human = panel.Locator("[data-testid=letta-block-human]");
        await Expect(human.Locator("textarea")).ToHaveValueAsync("Jane, café ☕");
        await Expect(human.Locator("[data-testid=letta-block-characters]")).ToHaveTextAsync("12 / 200 characters");
        await Expect(panel.Locator("[data-testid=letta-block-persona]")).ToBeVisibleAsync();

        await human.Locator("textarea").FillAsync("Jane prefers short answers.");
        await Expect(human.Locator("[data-testid=letta-block-characters]")).ToHaveTextAsync("27 / 200 characters");
        await human.Locator("[data-testid=letta-block-save]").ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("Saved the human block on Letta.");
        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("Jane prefers short answers."));
        await AssertNoSidewaysScrollAsync(page, "the agent page with its Letta panel");

        // Saved again from the same page: the ETag of the value just written is the one sent.
        await human.Locator("textarea").FillAsync("Jane prefers very short answers.");
        var saved = await page.RunAndWaitForResponseAsync(() => human.Locator("[data-testid=letta-block-save]").ClickAsync(),
            r => r.Url.EndsWith("/letta/blocks/human", StringComparison.Ordinal));
        Assert.That(saved.Status, Is.EqualTo(200));
        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("Jane prefers very short answers."));
        Assert.That(PageErrors, Is.Empty);
    }

    [Test]
    public async Task ABlockChangedOnLettaSinceThePageLoadedIsNotOverwritten()
    {
        var (agent, uid) = await LinkedAgentAsync();
        var page = await SignedInPageAsync(1280, 800);
        await page.GotoAsync($"/agents/{agent}");
        var human = page.Locator("[data-testid=letta-block-human]");
        await Expect(human.Locator("textarea")).ToHaveValueAsync("Jane, café ☕");

        _letta.SetBlockValue(uid, "human", "Written by the agent meanwhile.");
        await human.Locator("textarea").FillAsync("Mine.");
        await human.Locator("[data-testid=letta-block-save]").ClickAsync();

        await Expect(human.Locator(".error")).ToContainTextAsync("changed on Letta since the page loaded; nothing was saved");
        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("Written by the agent meanwhile."));
    }

    [Test]
    public async Task WhenLettaDoesNotAnswerThePanelSaysSoAndTheAgentStillSaves()
    {
        var (agent, _) = await LinkedAgentAsync();
        using (var admin = await AdminClientAsync())
            (await admin.PutAsJsonAsync("/api/config/letta_server_url", new { value = "http://127.0.0.1:" + PeerProcess.FreePort() })).EnsureSuccessStatusCode();
        var page = await SignedInPageAsync(1280, 800);

        await page.GotoAsync($"/agents/{agent}");

        await Expect(page.Locator("[data-testid=letta-unreachable]")).ToContainTextAsync("Letta cannot be reached");
        await page.FillAsync("input[name=display_name]", "Orion Two");
        await page.ClickAsync("form [type=submit]");
        await Expect(page.Locator("#notice")).ToContainTextAsync("Saved Orion Two.");
    }

    [Test]
    public async Task SystemSettingsTestsTheLettaConnectionAndKeepsTheLastSuccess()
    {
        await LinkedAgentAsync();
        var page = await SignedInPageAsync(1280, 800);
        await page.GotoAsync("/system-settings");

        await page.Locator("[data-testid=letta-test]").ClickAsync();

        await Expect(page.Locator("[data-testid=letta-status]")).ToContainTextAsync("Connected: Letta 0.16.0-stand-in answered in");
        using (var admin = await AdminClientAsync())
            (await admin.PutAsJsonAsync("/api/config/letta_server_url", new { value = "http://127.0.0.1:" + PeerProcess.FreePort() })).EnsureSuccessStatusCode();
        await page.Locator("[data-testid=letta-test]").ClickAsync();
        await Expect(page.Locator("[data-testid=letta-status]")).ToContainTextAsync("Failed: unreachable");
        await Expect(page.Locator("[data-testid=letta-status]")).ToContainTextAsync("Last success");
    }
}
