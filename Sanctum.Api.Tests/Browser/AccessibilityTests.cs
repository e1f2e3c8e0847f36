using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// Every page at phone size (390x844) checked by axe-core (pinned in tools/axe; `npm ci --prefix tools/axe`), and the
/// row actions of the backups, jobs and tokens pages on the screen there.
/// </summary>
[OwnPages]
public class AccessibilityTests : BrowserTest
{
    protected override string? EngineIndependent => "the pages' markup, contrast and names at phone width";

    private static string AxeScript => Path.Combine(OpenApiTests.RepositoryRoot(), "tools", "axe", "node_modules", "axe-core", "axe.min.js");

    public static IEnumerable<string> Pages() =>
    [
        "/", "/settings", "/status", "/system-settings", "/user-management", "/backup-restore", "/cron-scheduler", "/tokens", "/security",
        "/chat-settings", "/create-agent", "/agents/athena", "/install-tool", "/smcp-tools", "/smcp-plugins",
    ];

    private IPage? _phone;

    /// <summary>
    /// One admin page at phone size, signed in once, with axe as its context's init script: every check loads its path
    /// into it (a fresh document each time), instead of a context, a sign-in and a renderer process per check.
    /// </summary>
    private async Task<IPage> PhoneAsync()
    {
        if (_phone is not null) return _phone;
        var context = await SignedInFixtureContextAsync(390, 844);
        // An init script runs whatever the page's Content-Security-Policy says; the page itself loads nothing from outside.
        if (File.Exists(AxeScript)) await context.AddInitScriptAsync(scriptPath: AxeScript);
        return _phone = await NewPageAsync(context);
    }

    /// <summary>Loads <paramref name="path"/> into the phone page and checks the session still holds there.</summary>
    private async Task<IPage> OpenAsync(string path)
    {
        var page = await PhoneAsync();
        await page.GotoAsync(path);
        Assert.That(new Uri(page.Url).AbsolutePath, Is.EqualTo(path), "the page is served to the signed-in admin, not sent to sign in");
        return page;
    }

    [TestCaseSource(nameof(Pages))]
    public async Task ThePageHasNoAxeViolationAt390PixelsWide(string path)
    {
        if (!File.Exists(AxeScript)) Assert.Ignore($"axe-core not installed: npm ci --prefix tools/axe ({AxeScript})");
        var page = await OpenAsync(path);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)
            """);
        var found = violations.EnumerateArray().Select(v => v.GetString()).ToList();
        Assert.That(found, Is.Empty, $"axe at 390 px on {path}");
        await AssertNoSidewaysScrollAsync(page, path);
    }

    [TestCase("/backup-restore", "tr[data-backup]", new[] { "download", "verify", "restore", "delete" })]
    [TestCase("/cron-scheduler", "tr[data-job-name='Daily backup']", new[] { "run", "pause", "edit", "history", "delete" })]
    [TestCase("/tokens", "tr[data-testid=token-row]", new[] { "revoke" })]
    public async Task EveryActionOfARowIsOnTheScreenAt390PixelsWide(string path, string row, string[] actions)
    {
        var admin = await AdminClientAsync();
        (await admin.PostAsync("/api/backups", null)).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/auth/tokens", new { name = "phone check", scope = "read", expires_in_days = 30 })).EnsureSuccessStatusCode();
        var page = await OpenAsync(path);
        var first = page.Locator(row).First;
        await Expect(first).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page, path);
        foreach (var action in actions)
        {
            var button = first.Locator($"[data-action={action}], [data-testid={action}]");
            await button.ScrollIntoViewIfNeededAsync();
            var box = await button.BoundingBoxAsync();
            Assert.That(box, Is.Not.Null, action);
            Assert.That(box!.X, Is.GreaterThanOrEqualTo(0), $"{action} on {path}");
            Assert.That(box.X + box.Width, Is.LessThanOrEqualTo(390), $"{action} on {path} is off the screen");
        }
    }
}
