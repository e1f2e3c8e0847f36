using System.Net.Http.Headers;

namespace Sanctum.Api.Tests.Browser;

public class TokensPageTests : BrowserTest
{
    [Test]
    public async Task AUserCreatesAReadTokenFromTheMenuSeesItOnceUsesItAndRevokesIt()
    {
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/status");
        await Page.ClickAsync("[data-testid=tokens-link]");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/tokens");
        await Expect(Page.Locator("[data-testid=no-tokens]")).ToBeVisibleAsync();

        // Bad input: the server's message next to the field, nothing created.
        await Page.FillAsync("input[name=name]", "nightly report");
        await Page.FillAsync("input[name=expires_in_days]", "400");
        await Page.ClickAsync("[data-testid=create-token]");
        await Expect(Page.Locator("[data-error-for=expires_in_days]")).Not.ToBeEmptyAsync();

        await Page.FillAsync("input[name=expires_in_days]", "7");
        await Page.SelectOptionAsync("select[name=scope]", "read");
        await Page.ClickAsync("[data-testid=create-token]");
        var shown = Page.Locator("[data-testid=temporary-password]");
        await Expect(shown).ToContainTextAsync("sanctum_pat_");
        var token = (await shown.TextContentAsync())!.Trim();
        await Expect(Page.Locator("[data-testid=token-row]")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-testid=token-row]")).ToContainTextAsync("nightly report");
        await Expect(Page.Locator("[data-testid=token-row]")).Not.ToContainTextAsync("sanctum_pat_");

        using var script = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.That((await script.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await script.PostAsJsonAsync("/api/auth/logout", new { })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-testid=temporary-password]")).ToHaveCountAsync(0); // shown that once only
        await Page.ClickAsync("[data-testid=revoke]");
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("[data-testid=no-tokens]")).ToBeVisibleAsync();
        Assert.That((await script.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(OutsideRequests, Is.Empty);
    }
}
