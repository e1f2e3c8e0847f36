using System.Text.RegularExpressions;
using Sanctum.Api.Tests.Browser;

namespace Sanctum.Api.Tests.Oidc;

/// <summary>
/// Single sign-on against a real OpenID provider (oidc-provider from npm) on loopback: through its own login and consent
/// pages in Chromium, the role from the groups (and again at the next sign-in after a group change), PKCE S256 in the
/// redirect, and a tampered state refused with nothing issued.
/// </summary>
public class OidcSignInTests : BrowserTest
{
    // On both engines: single sign-on is tested only here, through the browser, and links and creates users in SQL of each engine.
    protected override string? EngineIndependent => null;

    private static readonly int ProviderPort = OidcTestProvider.FreePort();
    private OidcTestProvider _provider = null!;

    protected override IDictionary<string, string?>? AppSettings => new Dictionary<string, string?>
    {
        ["Sanctum:Oidc:Authority"] = $"http://localhost:{ProviderPort}",
        ["Sanctum:Oidc:ClientId"] = OidcTestProvider.ClientId,
        ["Sanctum:Oidc:ClientSecret"] = OidcTestProvider.ClientSecret,
        ["Sanctum:Oidc:RequireHttpsMetadata"] = "false",
        ["Sanctum:Oidc:DisplayName"] = "Test IdP",
        ["Sanctum:Oidc:AutoCreateUsers"] = "true",
        ["Sanctum:Oidc:GroupRoles:sanctum-admins"] = "admin",
        ["Sanctum:Oidc:GroupRoles:sanctum-users"] = "user",
    };

    private static object Users(string adaGroup) => new Dictionary<string, object>
    {
        ["ada"] = new { email = "ada@example.test", groups = new[] { adaGroup } },
        ["bob"] = new { email = "bob@example.test", groups = new[] { "sanctum-users" } },
    };

    [OneTimeSetUp]
    public void StartProvider() => _provider = new OidcTestProvider(ProviderPort, BaseUrl + "/api/auth/oidc/callback", Users("sanctum-admins"));

    [OneTimeTearDown]
    public void StopProvider() => _provider?.Dispose();

    // Off the signed-in page first: its scripts, finding the session gone, would send it to the login page in the
    // middle of the next navigation.
    private async Task ForgetSessionAsync()
    {
        await Page.GotoAsync("about:blank");
        await Context.ClearCookiesAsync();
    }

    private async Task SignInThroughTheProviderAsync(string login)
    {
        await Page.GotoAsync("/login?next=/status");
        await Page.ClickAsync("text=Sign in with Test IdP");
        await Page.WaitForURLAsync(new Regex($"localhost:{ProviderPort}/"));
        await Page.FillAsync("input[name=login]", login);
        await Page.FillAsync("input[name=password]", "anything");
        await Page.ClickAsync("button[type=submit]");
        // The development consent page: Continue. Named, so the click waits for that page: a click on any submit button
        // could land on the login form's again before it had gone (the provider then began again at its sign-in).
        await Page.ClickAsync("button[type=submit]:has-text('Continue')");
        await Page.WaitForURLAsync($"{BaseUrl}/status");
    }

    private async Task<JsonElement> MeAsync()
    {
        var response = await Context.APIRequest.GetAsync("/api/auth/me");
        Assert.That(response.Status, Is.EqualTo(200), await response.TextAsync());
        return JsonDocument.Parse(await response.TextAsync()).RootElement;
    }

    [Test]
    public async Task SigningInThroughTheProviderLandsInTheGroupsRoleAndAChangedGroupChangesItNextTime()
    {
        _provider.SetUsers(Users("sanctum-admins"));
        await SignInThroughTheProviderAsync("ada");
        var me = await MeAsync();
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("ada"));
        Assert.That(me.GetProperty("role").GetString(), Is.EqualTo("admin"));
        Assert.That((await Context.CookiesAsync()).Any(c => c.Name == "sanctum_session" && c.HttpOnly), Is.True);

        // Demoted at the provider: a user here at the next sign-in.
        _provider.SetUsers(Users("sanctum-users"));
        await ForgetSessionAsync();
        await SignInThroughTheProviderAsync("ada");
        Assert.That((await MeAsync()).GetProperty("role").GetString(), Is.EqualTo("user"));

        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Sanctum.Api.Audit.AuditLog>(App.Services).FlushAsync(TimeSpan.FromSeconds(10));
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_identities i JOIN users u ON u.id = i.user_id WHERE u.username = 'ada' AND i.subject = 'ada'"), Is.EqualTo(1));
        Assert.That(db.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'user.role_from_provider' ORDER BY id DESC LIMIT 1"), Does.Contain("\"to\":\"user\""));
        Assert.That(db.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'auth.login.succeeded' ORDER BY id DESC LIMIT 1"), Does.Contain("\"subject\":\"ada\""));
    }

    [Test]
    public async Task ARoleChangeFromTheProviderEndsTheAccessTokensAndNeverDemotesTheLastActiveAdmin()
    {
        _provider.SetUsers(Users("sanctum-admins"));
        await SignInThroughTheProviderAsync("ada");
        var token = await Context.APIRequest.PostAsync("/api/auth/tokens", new() { DataObject = new { name = "script", scope = "read", expires_in_days = 30 } });
        Assert.That(token.Status, Is.EqualTo(201), await token.TextAsync());
        using var db = App.OpenDatabase();
        var others = db.Query<long>("SELECT id FROM users WHERE role = 'admin' AND status = 'active' AND username <> 'ada'").ToList();
        try
        {
            // ada is the last active admin: the provider's demotion is refused (audited) and the role kept.
            db.Execute("UPDATE users SET status = 'inactive' WHERE id IN (SELECT id FROM users WHERE role = 'admin' AND username <> 'ada')");
            _provider.SetUsers(Users("sanctum-users"));
            await ForgetSessionAsync();
            await SignInThroughTheProviderAsync("ada");
            Assert.That((await MeAsync()).GetProperty("role").GetString(), Is.EqualTo("admin"));
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'ada'"), Is.EqualTo(1));

            // With another active admin the demotion goes through, and ada's access tokens end with the old role.
            foreach (var id in others) db.Execute("UPDATE users SET status = 'active' WHERE id = @id", new { id });
            await ForgetSessionAsync();
            await SignInThroughTheProviderAsync("ada");
            Assert.That((await MeAsync()).GetProperty("role").GetString(), Is.EqualTo("user"));
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'ada'"), Is.Zero);
            await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Sanctum.Api.Audit.AuditLog>(App.Services).FlushAsync(TimeSpan.FromSeconds(10));
            Assert.That(db.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'user.role_from_provider_refused' ORDER BY id DESC LIMIT 1"),
                Does.Contain("last_active_admin"));
        }
        finally
        {
            foreach (var id in others) db.Execute("UPDATE users SET status = 'active' WHERE id = @id", new { id });
        }
    }

    [Test]
    public async Task TheProvidersAreListedAndTheLoginRedirectCarriesPkceS256StateAndNonce()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(BaseUrl) };
        var providers = await client.GetFromJsonAsync<JsonElement>("/api/auth/providers");
        Assert.That(providers.GetArrayLength(), Is.EqualTo(1));
        Assert.That(providers[0].GetProperty("display_name").GetString(), Is.EqualTo("Test IdP"));

        var start = await client.GetAsync("/api/auth/oidc/login?next=/status");
        Assert.That(start.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var location = start.Headers.Location!.ToString();
        Assert.That(location, Does.StartWith($"http://localhost:{ProviderPort}/auth?"));
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(location).Query);
        Assert.That(query["client_id"], Is.EqualTo(OidcTestProvider.ClientId));
        Assert.That(query["redirect_uri"], Is.EqualTo(BaseUrl + "/api/auth/oidc/callback"));
        Assert.That(query["code_challenge_method"], Is.EqualTo("S256"));
        Assert.That(query["code_challenge"], Is.Not.Empty);
        Assert.That(query["state"], Is.Not.Empty);
        Assert.That(query["nonce"], Is.Not.Empty);
    }

    [Test]
    public async Task ATamperedStateIsRefusedAndNothingIsIssued()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(BaseUrl) };
        var start = await client.GetAsync("/api/auth/oidc/login?next=/status");
        var state = System.Web.HttpUtility.ParseQueryString(start.Headers.Location!.Query)["state"]!;
        long sessionsBefore;
        using (var db = App.OpenDatabase()) sessionsBefore = db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions");

        var tampered = state[..^4] + (state.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        var callback = await client.GetAsync($"/api/auth/oidc/callback?code=forged&state={Uri.EscapeDataString(tampered)}");

        Assert.That(callback.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(callback.Headers.Location!.ToString(), Does.StartWith("/login?sso_error="));
        Assert.That(callback.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("sanctum_session=", StringComparison.Ordinal)), Is.False);
        await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Sanctum.Api.Audit.AuditLog>(App.Services).FlushAsync(TimeSpan.FromSeconds(10));
        using var check = App.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(sessionsBefore));
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login.failed' AND details LIKE '%remote_failure%'"), Is.GreaterThanOrEqualTo(1));
    }
}
