using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.Browser;

/// <summary>Pages on the live event stream (wwwroot/js/live.js): a change made elsewhere shows without a reload.</summary>
public class LiveUpdatesPageTests : BrowserTest
{
    // On both engines: live events reach the page through PostgreSQL's LISTEN/NOTIFY relay there (Events/PostgresEventRelay.cs).
    protected override string? EngineIndependent => null;

    [Test]
    public async Task AStatusChangeMadeInOneBrowserAppearsOnAnothersStatusPageWithinASecond()
    {
        using var admin = await AdminClientAsync();
        var tool = "live-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Live tool", category = "master", status = "Healthy" })).EnsureSuccessStatusCode();

        await SignInAsNewUserAsync("viewer");
        var statusRequests = 0;
        Page.Request += (_, request) => { if (request.Url.EndsWith("/api/status", StringComparison.Ordinal)) statusRequests++; };
        await Page.GotoAsync("/status");
        var row = Page.Locator($"[data-testid=attention] tr[data-kind=tool][data-id={tool}]");
        await Expect(row).ToHaveCountAsync(0);
        var hub = App.Services.GetRequiredService<Sanctum.Api.Events.EventHub>();
        await hub.WaitForStreamCountAsync(n => n > 0, TimeSpan.FromSeconds(10));
        Assert.That(hub.StreamCount, Is.EqualTo(1), "the status page opened its stream");

        // Another browser context, signed in as an admin, turns the tool Off.
        var other = await SignedInPageAsync(1280, 800);
        await other.GotoAsync("/status");
        var reloadsBefore = statusRequests;
        var status = await other.EvaluateAsync<int>($$"""
            async () => (await fetch('/api/tools/{{tool}}', { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'Off' }) })).status
            """);
        Assert.That(status, Is.EqualTo(200));
        await Expect(row).ToHaveCountAsync(1, new() { Timeout = 1000 });
        await Expect(row).ToContainTextAsync("Off");
        Assert.That(statusRequests, Is.EqualTo(reloadsBefore + 1), "one reload, caused by the event");
        await Expect(Page.Locator("[data-testid=live-note]")).ToBeHiddenAsync();
        Assert.That(PageErrors, Is.Empty);
    }
}
