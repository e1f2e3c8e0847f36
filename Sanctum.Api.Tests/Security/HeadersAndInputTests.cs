using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Item 8 (headers on every response, HSTS is in TrustedProxiesTests) and item 6 (text that is not Unicode).</summary>
public class HeadersAndInputTests : ManagementFixture
{
    [TestCase("/login.html")]
    [TestCase("/user-management.html")]
    [TestCase("/login")]
    [TestCase("/swagger/index.html")]
    [TestCase("/no-such-page")]
    public async Task EveryHtmlResponseForbidsFramingSniffingAndOutsideScripts(string path)
    {
        var response = await _clients.Anonymous.GetAsync(path);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"), path);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.That(csp, Does.Contain("frame-ancestors 'none'"));
        Assert.That(csp, Does.Contain("default-src 'self'"));
        Assert.That(csp, Does.Not.Contain("script-src").Or.Not.Contain("unsafe"), "no inline or outside scripts");
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
        Assert.That(response.Headers.GetValues("Referrer-Policy").Single(), Is.EqualTo("same-origin"));
    }

    [Test]
    public async Task ApiAnswersThatCarryATokenOrASecretAreNeverStored()
    {
        var login = await _clients.Anonymous.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = SanctumApplication.AdminPassword });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(login.Headers.CacheControl?.NoStore, Is.True);
        Assert.That(login.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));

        var reveal = await Admin.GetAsync("/api/config/chat_api_key?reveal=true");
        Assert.That(reveal.StatusCode, Is.EqualTo(HttpStatusCode.OK), await reveal.Content.ReadAsStringAsync());
        Assert.That(reveal.Headers.CacheControl?.NoStore, Is.True);

        var token = await Admin.PostAsJsonAsync("/api/auth/tokens", new { name = "headers", expires_in_days = 1, scope = "read" });
        Assert.That(token.StatusCode, Is.EqualTo(HttpStatusCode.Created), await token.Content.ReadAsStringAsync());
        Assert.That(token.Headers.CacheControl?.NoStore, Is.True);
    }

    [Test]
    public async Task ALoneSurrogateInAConfigValueIs400AndChangesNothing()
    {
        var logs = new LogCapture();
        using var factory = logs.Attach(_app);
        var admin = factory.CreateClient().WithToken(await SignInAsync(factory));
        var before = _app.Fingerprint();
        var response = await admin.PutAsync("/api/config/sanctum_base_path", Support.JsonBody("""{"value":"\ud800"}"""));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        var invalidUtf8 = new ByteArrayContent([.. "{\"value\":\""u8, 0xC3, 0x28, .. "\"}"u8]);
        invalidUtf8.Headers.ContentType = new("application/json");
        await (await admin.PutAsync("/api/config/sanctum_base_path", invalidUtf8)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PostAsync("/api/users", Support.JsonBody("""{"username":"x\udc00y","email":"a@b.example"}"""))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(_app.Fingerprint(), Is.EqualTo(before));
        Assert.That(logs.Text, Does.Contain("not valid Unicode"));
        Assert.That(logs.Lines.Where(l => l.Contains("Unicode") || l.Contains("surrogate")), Has.None.Contains("   at "), "logged with a stack trace");
        Assert.That(logs.Lines, Has.None.StartWith("Error"), "a client's mistake is no error of the server");
    }

    [Test]
    public async Task ALoneSurrogateInABridgeSessionIdIs400InTheEnvelope()
    {
        var username = $"surr{Guid.NewGuid():N}"[..16];
        var web = await _app.CreateClientForRoleAsync("user", username);
        var response = await web.PostAsync("/api/v1/?action=messages", Support.JsonBody("""{"session_id":"session_\ud800","message":"hi"}"""));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        Assert.That(body.GetProperty("success").GetBoolean(), Is.False);
    }

    private static async Task<string> SignInAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory) =>
        (await SanctumApplication.LoginAsync(factory.CreateClient(), "admin", SanctumApplication.AdminPassword))!;
}
