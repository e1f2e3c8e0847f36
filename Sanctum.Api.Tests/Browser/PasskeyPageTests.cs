using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// Passkeys end to end with Chromium's virtual authenticator (DevTools protocol WebAuthn domain): registered on
/// /security, then used on the login page alone and as the second factor after the password.
/// </summary>
public class PasskeyPageTests : BrowserTest
{
    /// <summary>
    /// This server at http://localhost:port: WebAuthn takes no IP address as relying party, and the relying party here
    /// is localhost (the default public origins are the loopback names on the bound port).
    /// </summary>
    private string Local(string path) => new UriBuilder(BaseUrl) { Host = "localhost" }.Uri.GetLeftPart(UriPartial.Authority) + path;

    private async Task SignInOnPageAsync(string username)
    {
        await Page.GotoAsync(Local("/login"));
        await Page.FillAsync("#username", username);
        await Page.FillAsync("#password", UserPassword);
        await Page.ClickAsync("#login-form button[type=submit]");
        await Expect(Page.Locator("[data-testid=current-user]")).ToContainTextAsync(username);
    }

    /// <summary>A platform authenticator that holds resident keys and verifies the user without asking.</summary>
    private async Task<ICDPSession> VirtualAuthenticatorAsync()
    {
        var cdp = await Context.NewCDPSessionAsync(Page);
        await cdp.SendAsync("WebAuthn.enable");
        await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2", ["transport"] = "internal", ["hasResidentKey"] = true, ["hasUserVerification"] = true,
                ["isUserVerified"] = true, ["automaticPresenceSimulation"] = true,
            },
        });
        return cdp;
    }

    private async Task RegisterOnSecurityPageAsync(string name)
    {
        await Page.GotoAsync(Local("/security"));
        await Expect(Page.Locator("[data-testid=passkey-list]")).ToContainTextAsync("No passkeys yet");
        await Page.FillAsync("#passkey-name", name);
        await Page.ClickAsync("[data-testid=add-passkey]");
        await Expect(Page.Locator("[data-testid=passkey]")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-testid=passkey]")).ToContainTextAsync(name);
    }

    private async Task SignOutAsync()
    {
        await Page.ClickAsync("[data-testid=sign-out]");
        await Expect(Page).ToHaveURLAsync(new Regex("/login"));
        Assert.That((await Context.CookiesAsync()).Any(c => c.Name == "sanctum_session"), Is.False);
    }

    [Test]
    public async Task APasskeyRegisteredOnTheSecurityPageSignsInAloneFromTheLoginPage()
    {
        await VirtualAuthenticatorAsync();
        var username = CreateUser("user");
        await SignInOnPageAsync(username);
        await RegisterOnSecurityPageAsync("laptop");
        await SignOutAsync();

        await Page.ClickAsync("[data-testid=passkey-sign-in]");
        await Expect(Page).Not.ToHaveURLAsync(new Regex("/login"));
        await Expect(Page.Locator("[data-testid=current-user]")).ToContainTextAsync(username);

        using var db = App.OpenDatabase();
        var (count, used) = db.QuerySingle<(long, string?)>(
            "SELECT p.sign_count, p.last_used_at FROM user_passkeys p JOIN users u ON u.id = p.user_id WHERE u.username = @username", new { username });
        Assert.That(used, Is.Not.Null, "the sign-in is recorded on the passkey");
        Assert.That(count, Is.GreaterThan(0), "the authenticator's counter is kept");
    }

    [Test]
    public async Task WithAPasskeyThePasswordAloneNoLongerSignsInAndThePasskeyIsTheSecondFactor()
    {
        await VirtualAuthenticatorAsync();
        var username = CreateUser("user");
        await SignInOnPageAsync(username);
        await RegisterOnSecurityPageAsync("security key");
        await SignOutAsync();

        await Page.FillAsync("#username", username);
        await Page.FillAsync("#password", UserPassword);
        await Page.ClickAsync("#login-form button[type=submit]");
        await Expect(Page.Locator("#code-form")).ToBeVisibleAsync();
        Assert.That((await Context.CookiesAsync()).Any(c => c.Name == "sanctum_session"), Is.False, "no session before the passkey");
        await Page.ClickAsync("[data-testid=use-passkey]");
        await Expect(Page).Not.ToHaveURLAsync(new Regex("/login"));
        await Expect(Page.Locator("[data-testid=current-user]")).ToContainTextAsync(username);
    }

    [Test]
    public async Task APasskeyIsRenamedAndRemovedOnTheSecurityPageAndThenSignsInNoMore()
    {
        await VirtualAuthenticatorAsync();
        var username = CreateUser("user");
        await SignInOnPageAsync(username);
        await RegisterOnSecurityPageAsync("old name");

        var id = (await (await Page.APIRequest.GetAsync(Local("/api/auth/passkeys"))).JsonAsync())!.Value[0].GetProperty("id").GetInt64();
        var renamed = await Page.APIRequest.PatchAsync(Local($"/api/auth/passkeys/{id}"), new() { DataObject = new { name = "new name" } });
        Assert.That(renamed.Status, Is.EqualTo(200), await renamed.TextAsync());
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-testid=passkey]")).ToContainTextAsync("new name");

        await Page.Locator("[data-testid=passkey] button", new() { HasText = "Remove" }).ClickAsync();
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("[data-testid=passkey-list]")).ToContainTextAsync("No passkeys yet");
        await SignOutAsync();

        // The authenticator still holds the key, but the server no longer knows it.
        await Page.ClickAsync("[data-testid=passkey-sign-in]");
        await Expect(Page.Locator("[data-testid=login-error]")).Not.ToBeEmptyAsync();
        Assert.That((await Context.CookiesAsync()).Any(c => c.Name == "sanctum_session"), Is.False);
    }
}
