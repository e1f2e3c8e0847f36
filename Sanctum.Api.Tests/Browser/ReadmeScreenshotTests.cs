namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// Takes the README's picture of the settings grid on a fresh install and compares it with docs/settings-grid.png,
/// pixel by pixel with a tolerance. It is written there only when SANCTUM_UPDATE_SCREENSHOTS=1, so ordinary test runs
/// leave the working tree alone.
/// </summary>
public class ReadmeScreenshotTests : BrowserTest
{
    private const string Regenerate = "SANCTUM_UPDATE_SCREENSHOTS=1 dotnet test --filter TheSettingsGridScreenshotIsUpToDate";

    [Test]
    public async Task TheSettingsGridScreenshotIsUpToDate()
    {
        // The picture shows a panel in use: its agents Healthy (typed by hand here: no relay runs in a test).
        using (var db = App.OpenDatabase()) db.Execute("UPDATE agents SET status = 'Healthy', status_source = 'manual', status_reason = NULL");
        await SignInAsAdminAsync();
        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-tool-id]")).ToHaveCountAsync(5);
        await Expect(Page.Locator("[data-testid=overall-status]")).ToContainTextAsync("Healthy");

        var png = await Page.ScreenshotAsync(new() { FullPage = false });
        Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");

        var path = Path.Combine(OpenApiTests.RepositoryRoot(), "docs", "settings-grid.png");
        if (Environment.GetEnvironmentVariable("SANCTUM_UPDATE_SCREENSHOTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, png);
        }
        Assert.That(File.Exists(path), Is.True, $"docs/settings-grid.png is missing; take it with: {Regenerate}");

        // The page as it renders now against the README's picture, pixel by pixel: font smoothing and the like may move
        // a few pixels, a changed page moves many more.
        var share = PngImage.Decode(png).DifferingShare(PngImage.Decode(await File.ReadAllBytesAsync(path)), ChannelTolerance);
        TestContext.Out.WriteLine($"{share:P2} of the pixels differ from docs/settings-grid.png");
        Assert.That(share, Is.LessThanOrEqualTo(MaxDifferingShare),
            $"the settings grid no longer looks like docs/settings-grid.png ({share:P1} of its pixels differ); if the change is meant, take it again with: {Regenerate}");
    }

    private const int ChannelTolerance = 40;
    private const double MaxDifferingShare = 0.02;
}
