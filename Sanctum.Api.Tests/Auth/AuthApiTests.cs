using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Sanctum.Api.Tests.Auth;

public class AuthApiTests
{
    private SanctumApplication _app = null!;

    [SetUp]
    public void NewApplication() => _app = new SanctumApplication();

    [TearDown]
    public void DisposeApplication() => _app.Dispose();

    [Test]
    public async Task LoginReturnsATokenACookieAndTheUserWithoutItsHash()
    {
        var response = await _app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "admin123" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonDocument.Parse(text).RootElement;
        Assert.That(body.GetProperty("token").GetString(), Has.Length.GreaterThanOrEqualTo(40));
        Assert.That(body.GetProperty("expires_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"));
        Assert.That(body.GetProperty("user").GetProperty("username").GetString(), Is.EqualTo("admin"));
        Assert.That(text, Does.Not.Contain("password_hash").And.Not.Contain("$2"));

        var cookie = response.Headers.GetValues("Set-Cookie").Single();
        Assert.That(cookie, Does.StartWith("sanctum_session="));
        Assert.That(cookie.ToLowerInvariant(), Does.Contain("httponly").And.Contain("samesite=strict").And.Contain("path=/"));
    }

    [Test]
    public async Task WrongPasswordAndUnknownUserGetTheSame401()
    {
        var client = _app.CreateClient();
        var wrongPassword = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "nope-nope" });
        var unknownUser = await client.PostAsJsonAsync("/api/auth/login", new { username = "ghost", password = "nope-nope" });

        var a = await wrongPassword.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var b = await unknownUser.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(a.GetProperty("detail").GetString(), Is.EqualTo(b.GetProperty("detail").GetString()));
        Assert.That(a.GetProperty("title").GetString(), Is.EqualTo(b.GetProperty("title").GetString()));
    }

    [Test]
    public async Task TheDatabaseStoresOnlyTheSha256OfTheToken()
    {
        var client = _app.CreateClient();
        var token = await SanctumApplication.LoginAsync(client, "admin", "admin123");

        using var db = _app.OpenDatabase();
        var stored = db.QuerySingle<string>("SELECT session_token FROM user_sessions");
        Assert.That(stored, Is.Not.EqualTo(token));
        Assert.That(stored, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token!)))));
        if (TestEngine.IsPostgres) return; // the rest reads SQLite's files
        db.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_app.DataDirectory, "sanctum.db*"))
            Assert.That(Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file)), Does.Not.Contain(token), file);
    }

    [Test]
    public async Task LogoutDeletesTheSessionAndTheTokenStopsWorking()
    {
        var admin = await _app.CreateAdminClientAsync();
        Assert.That((await admin.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var logout = await admin.PostAsync("/api/auth/logout", null);

        Assert.That(logout.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        await (await admin.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(0));
    }

    [Test]
    public async Task TheSessionCookieAuthenticatesLikeTheBearerToken()
    {
        var client = _app.CreateClient(); // the test client keeps cookies
        await SanctumApplication.LoginAsync(client, "admin", "admin123");

        var me = await client.GetAsync("/api/auth/me");

        Assert.That(me.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await me.JsonAsync()).GetProperty("username").GetString(), Is.EqualTo("admin"));
    }

    [Test]
    public async Task FiveFailedLoginsLockTheAccountEvenAgainstTheRightPassword()
    {
        var client = _app.CreateClient();
        for (var i = 0; i < 5; i++)
            await (await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = $"wrong-{i}" })).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var right = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "admin123" });

        await right.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var db = _app.OpenDatabase();
        var lockedUntil = db.QuerySingle<string>("SELECT locked_until FROM users WHERE username = 'admin'");
        Assert.That(DateTimeOffset.Parse(lockedUntil) - DateTimeOffset.UtcNow, Is.GreaterThan(TimeSpan.FromMinutes(14)).And.LessThanOrEqualTo(TimeSpan.FromMinutes(15)));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(0));
    }

    [Test]
    public async Task FourFailuresThenASuccessResetTheCount()
    {
        var client = _app.CreateClient();
        for (var i = 0; i < 4; i++) await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "wrong" });
        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Not.Null);

        using var db = _app.OpenDatabase();
        Assert.That(db.QuerySingle<long>("SELECT failed_login_attempts FROM users WHERE username = 'admin'"), Is.EqualTo(0));
    }

    [Test]
    public async Task AnExpiredLockLetsTheRightPasswordIn()
    {
        var client = _app.CreateClient();
        for (var i = 0; i < 5; i++) await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "wrong" });
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE users SET locked_until = '2000-01-01T00:00:00Z' WHERE username = 'admin'");

        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Not.Null);
    }

    [Test]
    public async Task APendingPasswordChangeBlocksEverythingButMePasswordAndLogout()
    {
        var client = _app.CreateClient();
        var token = await SanctumApplication.LoginAsync(client, "admin", "admin123");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        foreach (var path in new[] { "/api/tools", "/api/agents", "/api/status", "/api/tools/categories" })
        {
            var problem = await (await client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.Forbidden);
            Assert.That(problem.GetProperty("type").GetString(), Does.EndWith("password-change-required"), path);
        }
        Assert.That((await client.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = "brand-new-pass" });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await client.GetFromJsonAsync<JsonElement>("/api/auth/me")).GetProperty("must_change_password").GetBoolean(), Is.False);
    }

    [Test]
    public async Task PasswordChangeRefusesAWrongCurrentOrAShortNewPasswordAndChangesNothing()
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SanctumApplication.LoginAsync(client, "admin", "admin123"));
        string HashNow() { using var db = _app.OpenDatabase(); return db.QuerySingle<string>("SELECT password_hash FROM users WHERE username = 'admin'"); }
        var before = HashNow();

        var wrongCurrent = await (await client.PostAsJsonAsync("/api/auth/password", new { current_password = "nope", new_password = "long-enough-1" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        var shortNew = await (await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = "short" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        var sameAgain = await (await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = "admin123" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        var tooLong = await (await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = new string('x', 73) }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.That(wrongCurrent.GetProperty("errors").TryGetProperty("current_password", out _), Is.True);
        Assert.That(shortNew.GetProperty("errors").TryGetProperty("new_password", out _), Is.True);
        Assert.That(sameAgain.GetProperty("errors").TryGetProperty("new_password", out _), Is.True);
        Assert.That(tooLong.GetProperty("errors").TryGetProperty("new_password", out _), Is.True);
        Assert.That(HashNow(), Is.EqualTo(before));
    }

    [Test]
    public async Task ChangingThePasswordEndsTheOtherSessionsButNotThisOne()
    {
        var other = _app.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await SanctumApplication.LoginAsync(other, "admin", "admin123"));
        var admin = await _app.CreateAdminClientAsync();

        await (await other.GetAsync("/api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That((await admin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AnExpiredSessionIsRefused()
    {
        var admin = await _app.CreateAdminClientAsync();
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE user_sessions SET expires_at = '2001-01-01T00:00:00Z'");

        await (await admin.GetAsync("/api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task AnInactiveUserCannotSignInAndLosesTheirSession()
    {
        var viewer = await _app.CreateClientForRoleAsync("viewer", "inactive-viewer");
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE users SET status = 'inactive' WHERE username = 'inactive-viewer'");

        await (await viewer.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "inactive-viewer", "role-password-1"), Is.Null);
    }

    [Test]
    public async Task LoginValidatesItsBody()
    {
        var client = _app.CreateClient();

        var missing = await (await client.PostAsync("/api/auth/login", Support.JsonBody("{}"))).AssertProblemAsync(HttpStatusCode.BadRequest);
        var malformed = await client.PostAsync("/api/auth/login", Support.JsonBody("{\"username\": "));
        var wrongType = await (await client.PostAsync("/api/auth/login", Support.JsonBody("{\"username\": 5, \"password\": \"x\"}"))).AssertProblemAsync(HttpStatusCode.BadRequest);
        var form = await client.PostAsync("/api/auth/login", new StringContent("username=admin&password=admin123", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.That(missing.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { "username", "password" }));
        await malformed.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(wrongType.GetProperty("errors").TryGetProperty("username", out _), Is.True);
        await form.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Test]
    public async Task ABodyOverOneMebibyteIs413()
    {
        var huge = "{\"username\":\"" + new string('a', 1024 * 1024) + "\",\"password\":\"x\"}";
        var response = await _app.CreateClient().PostAsync("/api/auth/login", Support.JsonBody(huge));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Test]
    public async Task ACookieWriteFromAnotherSiteIsRefusedAndChangesNothing()
    {
        var client = _app.CreateClient();
        await SanctumApplication.LoginAsync(client, "admin", "admin123");

        var forged = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        forged.Headers.Add("Origin", "https://evil.example");
        var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");

        await (await client.SendAsync(forged)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await client.SendAsync(crossSite)).AssertProblemAsync(HttpStatusCode.Forbidden);
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(1));

        var sameOrigin = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        sameOrigin.Headers.Add("Origin", client.BaseAddress!.GetLeftPart(UriPartial.Authority));
        Assert.That((await client.SendAsync(sameOrigin)).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
    }
}

public class LoginRateLimitTests
{
    [Test]
    public async Task LoginsBeyondTheLimitPerAddressGet429WithRetryAfter()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:LoginPermitLimit"] = "3" });
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
            Assert.That((await client.PostAsJsonAsync("/api/auth/login", new { username = "x", password = "y" })).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        var limited = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "admin123" });

        await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.That(int.Parse(limited.Headers.GetValues("Retry-After").Single()), Is.GreaterThan(0));
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(0));
    }
}

public class BootstrapAdminPasswordTests
{
    [Test]
    public async Task AConfiguredBootstrapPasswordReplacesAdmin123AndStillMustBeChanged()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:BootstrapAdminPassword"] = "bootstrap-secret-1" });
        var client = app.CreateClient();

        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Null);
        var token = await SanctumApplication.LoginAsync(client, "admin", "bootstrap-secret-1");
        Assert.That(token, Is.Not.Null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var problem = await (await client.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(problem.GetProperty("type").GetString(), Does.EndWith("password-change-required"));
    }
}
