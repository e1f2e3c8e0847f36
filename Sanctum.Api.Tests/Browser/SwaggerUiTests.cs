using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

public class SwaggerUiTests : BrowserTest
{
    [Test]
    public async Task TheIntroRendersTheAuthorizeDialogOffersEveryKeyAndPublicOperationsHaveNoPadlock()
    {
        await Page.GotoAsync("/swagger/index.html");
        await Expect(Page.Locator(".info .description")).ToContainTextAsync("Authorization: Bearer <token>");

        var login = Page.Locator("#operations-Auth-Login");
        // Swagger UI renders every operation (147 now) before the first shows: on a busy 2-core machine that
        // takes longer than the default 5 s.
        await Expect(login).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(login.Locator(".authorization__btn")).ToHaveCountAsync(0);
        await Expect(Page.Locator("#operations-Tools-ListTools .authorization__btn")).ToHaveCountAsync(1);
        await Expect(Page.Locator("#operations-Health-GetReadiness .authorization__btn")).ToHaveCountAsync(0);

        await Page.ClickAsync(".auth-wrapper .authorize");
        var dialog = Page.Locator(".dialog-ux .modal-ux");
        await Expect(dialog).ToBeVisibleAsync();
        foreach (var scheme in new[] { "session_token", "session_cookie", "access_token", "bridge_key", "bridge_admin_key" })
            await Expect(dialog.Locator("h4", new() { HasTextString = scheme })).ToHaveCountAsync(1);
    }
}
