using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

public class SwaggerUiTests : BrowserTest
{
    protected override string? EngineIndependent => "Swagger UI drawing the served document";

    [Test]
    public async Task TheIntroRendersTheAuthorizeDialogOffersEveryKeyAndPublicOperationsHaveNoPadlock()
    {
        await Page.GotoAsync("/swagger/index.html");
        await Expect(Page.Locator(".info .description")).ToContainTextAsync("Authorization: Bearer <token>");

        var login = await ScrollToAsync("#operations-Auth-Login");
        await Expect(login.Locator(".authorization__btn")).ToHaveCountAsync(0);
        await Expect((await ScrollToAsync("#operations-Tools-ListTools")).Locator(".authorization__btn")).ToHaveCountAsync(1);
        await Expect((await ScrollToAsync("#operations-Health-GetReadiness")).Locator(".authorization__btn")).ToHaveCountAsync(0);

        await Page.ClickAsync(".auth-wrapper .authorize");
        var dialog = Page.Locator(".dialog-ux .modal-ux");
        await Expect(dialog).ToBeVisibleAsync();
        foreach (var scheme in new[] { "session_token", "session_cookie", "access_token", "bridge_key", "bridge_admin_key" })
            await Expect(dialog.Locator("h4", new() { HasTextString = scheme })).ToHaveCountAsync(1);
    }

    [Test]
    public async Task ScrollingThroughThePageRendersEveryOperationOfTheDocument()
    {
        var document = await App.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var operations = document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()).Select(op => op.Value).ToList();
        var expected = operations.Select(op => op.GetProperty("operationId").GetString()!).ToHashSet();
        var tags = operations.SelectMany(op => op.GetProperty("tags").EnumerateArray().Select(t => t.GetString())).Distinct().Count();

        await Page.GotoAsync("/swagger/index.html");
        await Expect(Page.Locator(".opblock").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var seen = new HashSet<string>();
        for (var step = 0; step < 2_000; step++)
        {
            foreach (var id in await Page.Locator(".opblock").EvaluateAllAsync<string[]>("els => els.map(e => e.id)"))
                seen.Add(id[(id.LastIndexOf('-') + 1)..]);
            if (!await Page.EvaluateAsync<bool>(ScrollOnePage)) break;
        }

        Assert.That(expected.Count + tags, Is.GreaterThanOrEqualTo(150), "enough that Swagger UI virtualizes the list (150 tags and operations)");
        Assert.That(expected.Except(seen), Is.Empty, "operations never rendered while scrolling");
        await Expect(Page.GetByText("Could not render")).ToHaveCountAsync(0);
    }

    // Swagger UI (5.3x) renders only the operations near the window once the document lists 150 tags and operations or
    // more (ours does); the rest appear as the page scrolls. Scrolls one window down and waits for two frames, in which
    // the list draws what came into view; false at the bottom.
    private const string ScrollOnePage = """
        async () => {
          const before = window.scrollY;
          window.scrollBy(0, window.innerHeight * 0.8);
          await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
          await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
          return window.scrollY !== before;
        }
        """;

    /// <summary>Scrolls from the top until the operation is drawn, and returns it in view.</summary>
    private async Task<ILocator> ScrollToAsync(string selector)
    {
        var target = Page.Locator(selector);
        await Expect(Page.Locator(".opblock").First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Page.EvaluateAsync("() => window.scrollTo(0, 0)");
        for (var step = 0; step < 2_000 && await target.CountAsync() == 0; step++)
            if (!await Page.EvaluateAsync<bool>(ScrollOnePage)) break;
        await target.ScrollIntoViewIfNeededAsync();
        await Expect(target).ToBeVisibleAsync();
        return target;
    }
}
