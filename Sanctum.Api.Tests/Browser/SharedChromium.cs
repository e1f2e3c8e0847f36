using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// One Chromium for the whole test run, started by the first browser fixture that needs it: starting one takes longer
/// than most browser tests. Tests stay apart as before, each in a browser context of its own (own cookies, storage and
/// cache), which is what Playwright's contexts are for.
/// </summary>
public static class SharedChromium
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IPlaywright? _playwright;
    private static IBrowser? _browser;

    public static async Task<IBrowser> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_browser is { IsConnected: true }) return _browser;
            if (_browser is not null) await _browser.DisposeAsync(); // it crashed: start another
            _playwright ??= await Playwright.CreateAsync();
            // Expect(...) waits as long as a page action does (BrowserTest's 10 s), not Playwright's 5 s: a page that
            // is right but slow on a crowded machine (Swagger UI drawing the whole document) is not a failure.
            Assertions.SetDefaultExpectTimeout(10_000);
            // SANCTUM_TEST_CHROMIUM names another Chromium binary (e.g. /usr/bin/chromium, to compare).
            _browser = await _playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Environment.GetEnvironmentVariable("SANCTUM_TEST_CHROMIUM") ?? BrowserTest.BrowserPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
            });
            return _browser;
        }
        finally { Gate.Release(); }
    }

    public static async Task StopAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_browser is not null) await _browser.DisposeAsync();
            _playwright?.Dispose();
            (_browser, _playwright) = (null, null);
        }
        finally { Gate.Release(); }
    }
}
