using Sanctum.Api.Auth;

namespace Sanctum.Api.Tests.Browser;

public class TwoFactorPageTests : BrowserTest
{
    [Test]
    public async Task AUserTurnsOnTwoFactorOnTheSecurityPageThenSignsInWithTheAppsCode()
    {
        var username = CreateUser("user");
        await SignInAsync(username, UserPassword);
        await Page.GotoAsync("/tokens");
        await Page.ClickAsync("[data-testid=security-link]");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/security");
        await Expect(Page.Locator("[data-testid=two-factor-state]")).ToContainTextAsync("Off");

        await Page.ClickAsync("[data-testid=start-enrolment]");
        var secretBox = Page.Locator("[data-testid=totp-secret]");
        await Expect(secretBox).Not.ToHaveValueAsync("");
        var secret = TotpCodes.FromBase32(await secretBox.InputValueAsync());
        // The QR code image loaded (the server drew it for the pending enrolment).
        await Page.WaitForFunctionAsync("() => { const qr = document.getElementById('qr'); return qr.complete && qr.naturalWidth > 0; }");

        await Page.FillAsync("#confirm-code", "000000" == TotpCodes.Compute(secret, DateTimeOffset.UtcNow) ? "111111" : "000000");
        await Page.ClickAsync("[data-testid=confirm-enrolment]");
        await Expect(Page.Locator("#enrol [data-error-for=code]")).Not.ToBeEmptyAsync();
        await Page.FillAsync("#confirm-code", TotpCodes.Compute(secret, DateTimeOffset.UtcNow));
        await Page.ClickAsync("[data-testid=confirm-enrolment]");
        await Expect(Page.Locator("[data-testid=recovery-codes] li")).ToHaveCountAsync(10);
        await Expect(Page.Locator("[data-testid=two-factor-state]")).ToContainTextAsync("On");
        await Expect(Page.Locator("[data-testid=recovery-codes-left]")).ToContainTextAsync("10 of 10");

        await Page.ClickAsync("[data-testid=sign-out]");
        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await Page.FillAsync("#username", username);
        await Page.FillAsync("#password", UserPassword);
        await Page.ClickAsync("#login-form button[type=submit]");
        await Expect(Page.Locator("#code-form")).ToBeVisibleAsync();
        // Not signed in yet: no session cookie before the code.
        Assert.That((await Context.CookiesAsync()).Any(c => c.Name == "sanctum_session"), Is.False);

        await Page.FillAsync("#code", "12345");
        await Page.ClickAsync("#code-form button[type=submit]");
        await Expect(Page.Locator("#code-form [data-error-for=code]")).Not.ToBeEmptyAsync();
        // The confirming code's step is spent: the app's next code (within the window) signs in.
        await Page.FillAsync("#code", TotpCodes.Compute(secret, DateTimeOffset.UtcNow.AddSeconds(30)));
        await Page.ClickAsync("#code-form button[type=submit]");
        await Expect(Page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await Expect(Page.Locator("[data-testid=current-user]")).ToContainTextAsync(username);
        Assert.That(OutsideRequests, Is.Empty);
    }
}
