namespace Sanctum.Api.Tests.Security;

/// <summary>Item 1a: writes from a browser only from the service's own origins, never trusting Host; AllowedHosts.</summary>
public class OriginAndHostTests
{
    private static HttpRequestMessage Login(string? host, string? origin, string password = "admin123")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "admin", password }) };
        if (host is not null) request.Headers.Host = host;
        if (origin is not null) request.Headers.Add("Origin", origin);
        return request;
    }

    [Test]
    public async Task ADnsRebindingPageWhoseOriginMatchesItsHostCannotSignInOrWrite()
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();

        var response = await client.SendAsync(Login("evil.example:5000", "http://evil.example:5000"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(problem.GetProperty("type").GetString(), Does.EndWith("cross-site-request"));
        using (var db = app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.Zero, "the rebinding page got a session");

        // With a session cookie as well: the old guard compared Origin with the attacker's own Host and let it through.
        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Not.Null);
        var logout = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        logout.Headers.Host = "evil.example:5000";
        logout.Headers.Add("Origin", "http://evil.example:5000");
        await (await client.SendAsync(logout)).AssertProblemAsync(HttpStatusCode.Forbidden);
        using (var db = app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(1));
    }

    [Test]
    public async Task ByDefaultTheLoopbackNamesAreTheOwnOriginsAndScriptsWithoutOriginAreUnaffected()
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();
        foreach (var origin in new[] { "http://localhost", "http://127.0.0.1", "http://[::1]" })
            Assert.That((await client.SendAsync(Login(null, origin))).StatusCode, Is.EqualTo(HttpStatusCode.OK), origin);
        Assert.That((await client.SendAsync(Login(null, null))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await (await client.SendAsync(Login(null, "http://localhost:8080"))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await client.SendAsync(Login(null, "null"))).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task AConfiguredPublicOriginReplacesTheDefaults()
    {
        // A public origin means the service is reachable from elsewhere: the first admin's password is not admin123 then.
        const string password = "origin-check-phrase-9";
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:PublicOrigins"] = "https://sanctum.example.com", ["Sanctum:BootstrapAdminPassword"] = password,
        });
        var client = app.CreateClient();
        Assert.That((await client.SendAsync(Login(null, "https://sanctum.example.com", password))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await client.SendAsync(Login(null, "https://SANCTUM.example.com:443", password))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await (await client.SendAsync(Login(null, "http://localhost"))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await client.SendAsync(Login(null, "https://sanctum.example.com.evil.example"))).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task WithAllowedHostsSetARequestForAnotherHostIs400()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["AllowedHosts"] = "sanctum.example.com;localhost" });
        var client = app.CreateClient();
        var other = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        other.Headers.Host = "evil.example";
        Assert.That((await client.SendAsync(other)).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var own = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        own.Headers.Host = "sanctum.example.com";
        Assert.That((await client.SendAsync(own)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
