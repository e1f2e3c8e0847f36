using Microsoft.Playwright;
using Sanctum.Api.Tests.Signals;

namespace Sanctum.Api.Tests.Browser;

/// <summary>The Logs &amp; Status page: availability bars, recent status changes, and the admins' audit feed.</summary>
public class StatusPageTests : BrowserTest
{
    [Test]
    public async Task TheAvailabilityBarShowsEachToolsShareOfTheLastDay()
    {
        var tool = "bar-" + Guid.NewGuid().ToString("N")[..8];
        using (var db = App.OpenDatabase()) StatusArrange.ToolHealthyThenOff(db, tool, "Bar tool");
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/status");

        var row = Page.Locator($"[data-testid=availability] [data-kind=tool][data-id={tool}]");
        await Expect(row.Locator("[data-testid=percent]")).ToHaveTextAsync("75 %");
        await Expect(row.Locator(".avail-bar > span")).ToHaveCountAsync(2);
        var widths = await row.Locator(".avail-bar > span").EvaluateAllAsync<double[]>("parts => parts.map(p => p.getBoundingClientRect().width)");
        Assert.That(widths[0] / (widths[0] + widths[1]), Is.EqualTo(0.75).Within(0.03), "Healthy for 18 of 24 hours");
        // No relay has polled the seeded agent and broca's status was set by hand: neither has a figure.
        await Expect(Page.Locator("[data-testid=availability] [data-kind=agent][data-id=athena] [data-testid=percent]")).ToHaveTextAsync("no signal");
        var broca = Page.Locator("[data-testid=availability] [data-kind=tool][data-id=broca]");
        await Expect(broca.Locator("[data-testid=percent]")).ToHaveTextAsync("no signal");
        await Expect(broca.Locator("[data-testid=status-source]")).ToHaveTextAsync("set by hand");
    }

    [Test]
    public async Task RecentStatusChangesShowOldAndNewStatusAsText()
    {
        using var admin = await AdminClientAsync();
        var tool = "hist-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "<img src=x onerror=alert(1)>", category = "master", status = "Healthy" })).EnsureSuccessStatusCode();
        (await admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Degraded" })).EnsureSuccessStatusCode();

        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/status");
        var change = Page.Locator($"[data-testid=history] tr[data-kind=tool][data-id={tool}]").First;
        await Expect(change.Locator("[data-testid=old-status]")).ToHaveTextAsync("Healthy");
        await Expect(change.Locator("[data-testid=new-status]")).ToHaveTextAsync("Degraded");
        await Expect(change).ToContainTextAsync("<img src=x onerror=alert(1)>");
        await Expect(change).ToContainTextAsync("manual");
        Assert.That(await Page.Locator("[data-testid=history] img").CountAsync(), Is.Zero);
        Assert.That(Dialogs, Is.Empty);
    }

    [Test]
    public async Task AdminsFilterTheAuditFeedAndVerifyTheChain()
    {
        using var admin = await AdminClientAsync();
        var tool = "aud-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Audited", category = "master" })).EnsureSuccessStatusCode();
        var instance = (await (await admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "i" })).JsonAsync()).GetProperty("id").GetInt64();
        (await admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{instance}", new { status = "Off" })).EnsureSuccessStatusCode();

        await SignInAsAdminAsync();
        await Page.GotoAsync("/status");
        var feed = Page.Locator("[data-testid=audit]");
        await Expect(feed).ToBeVisibleAsync();

        await feed.Locator("input[name=action]").FillAsync("status.changed");
        await feed.Locator("input[name=target]").FillAsync($"instance:{instance}");
        await feed.Locator("button[type=submit]").ClickAsync();
        var rows = feed.Locator("tr[data-action='status.changed']");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator("[data-testid=actor]")).ToHaveTextAsync("admin");
        await Expect(rows.First.Locator("[data-testid=address]")).Not.ToBeEmptyAsync();
        await Expect(rows.First).ToContainTextAsync("\"to\":\"Off\"");

        await feed.Locator("input[name=actor]").FillAsync("nobody-at-all");
        await feed.Locator("button[type=submit]").ClickAsync();
        await Expect(feed.Locator("[data-testid=audit-empty]")).ToBeVisibleAsync();

        await feed.Locator("[data-testid=audit-verify]").ClickAsync();
        await Expect(feed.Locator("[data-testid=audit-verdict]")).ToContainTextAsync("Chain intact");
    }

    [Test]
    public async Task OthersSeeNoAuditFeedAndNeverAskForIt()
    {
        var asked = new List<string>();
        Page.Request += (_, request) => { if (request.Url.Contains("/api/audit", StringComparison.Ordinal)) asked.Add(request.Url); };
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/status");
        await Expect(Page.Locator("[data-testid=availability] .avail-row").First).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=audit]")).ToBeHiddenAsync();
        Assert.That(asked, Is.Empty);
        Assert.That(OutsideRequests, Is.Empty);
    }
}
