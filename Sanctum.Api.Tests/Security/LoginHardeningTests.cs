namespace Sanctum.Api.Tests.Security;

/// <summary>Item 7 (lockout race), item 9 (trusted proxies, HSTS) and item 10 (password rules).</summary>
public class LoginHardeningTests
{
    [Test]
    public async Task TheRightPasswordSentAmongSimultaneousGuessesDoesNotGetPastTheLockout()
    {
        // Real bcrypt cost, and room for every attempt to be checked at once, so they are all in flight together.
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:LockoutThreshold"] = "3",
            ["Sanctum:PasswordHashingConcurrency"] = "32",
        });
        var username = $"race{Guid.NewGuid():N}"[..16];
        using (var db = app.OpenDatabase())
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES (@username, @email, @hash, 'user')",
                new { username, email = $"{username}@example.test", hash = BCrypt.Net.BCrypt.HashPassword("right-password-1", 10) });
        var client = app.CreateClient();

        var guesses = Enumerable.Range(0, 12).Select(i => client.PostAsJsonAsync("/api/auth/login", new { username, password = $"wrong-guess-{i}" })).ToList();
        // Send the right password once the guesses have been counted but while they are still being checked (real
        // bcrypt cost): a fixed head start would make the test depend on the machine's load.
        using (var db = app.OpenDatabase())
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (db.ExecuteScalar<long>("SELECT failed_login_attempts FROM users WHERE username = @username", new { username }) < 3
                   && guesses.Any(g => !g.IsCompleted) && DateTime.UtcNow < deadline)
                await Task.Delay(1);
        }
        var right = await client.PostAsJsonAsync("/api/auth/login", new { username, password = "right-password-1" });
        var results = await Task.WhenAll(guesses);

        Assert.That(results.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(right.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the right password got in after the threshold was passed");
        using (var db = app.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<string?>("SELECT locked_until FROM users WHERE username = @username", new { username }), Is.Not.Null);
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = @username", new { username }), Is.Zero);
        }
    }

    [Test]
    public async Task TheRightPasswordWithinTheThresholdStillSignsIn()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:LockoutThreshold"] = "3" });
        var client = app.CreateClient();
        for (var i = 0; i < 2; i++) Assert.That(await SanctumApplication.LoginAsync(client, "admin", "wrong-password-x"), Is.Null);
        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Not.Null, "the third attempt, right, is within the threshold");
        using var db = app.OpenDatabase();
        Assert.That(db.QuerySingle<(long, string?)>("SELECT failed_login_attempts, locked_until FROM users WHERE username = 'admin'"), Is.EqualTo((0L, (string?)null)));
    }

    [TestCase("short-pass1", "at least 12")]
    [TestCase("password1234", "common")]
    [TestCase("PASSWORD1234", "common")]
    [TestCase("admin@sanctum.local", "username and the email")]
    [TestCase("qwerty123456", "common")]
    public async Task TheSeededAdminsForcedChangeRefusesWeakPasswords(string weak, string reason)
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await SanctumApplication.LoginAsync(client, "admin", "admin123"));
        var response = await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = weak });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("new_password")[0].GetString(), Does.Contain(reason));
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT must_change_password FROM users WHERE username = 'admin'"), Is.EqualTo(1));
    }

    [Test]
    public async Task NewUsersAndResetsFollowTheSameRule()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var sameAsName = await admin.PostAsJsonAsync("/api/users", new { username = "longusername12", email = "l@example.test", password = "LongUsername12" });
        await sameAsName.AssertProblemAsync(HttpStatusCode.BadRequest);
        var common = await admin.PostAsJsonAsync("/api/users", new { username = "someone", email = "s@example.test", password = "letmein12345" });
        await common.AssertProblemAsync(HttpStatusCode.BadRequest);
        var created = await admin.PostAsJsonAsync("/api/users", new { username = "someone", email = "s@example.test" });
        var id = (await created.JsonAsync()).GetProperty("id").GetInt64();
        await (await admin.PostAsJsonAsync($"/api/users/{id}/password", new { password = "eleven-char" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That((await admin.PostAsJsonAsync($"/api/users/{id}/password", new { password = "a-decent-password-1" })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}

/// <summary>Item 9: Sanctum:TrustedProxies, on a real Kestrel port so the connection has a peer address.</summary>
public class TrustedProxiesTests
{
    private static async Task<(HttpResponseMessage Response, string? StoredAddress)> LoginThroughProxyAsync(string? trusted)
    {
        var settings = new Dictionary<string, string?>();
        if (trusted is not null) settings["Sanctum:TrustedProxies"] = trusted;
        // Behind a proxy admin123 is never the first password (issue 23 item 3): the operator's chosen one is.
        settings["Sanctum:BootstrapAdminPassword"] = "proxy-test-password-1";
        await using var app = new SanctumApplication(settings);
        app.UseKestrelOnLoopback();
        app.StartServer();
        var client = app.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "admin", password = "proxy-test-password-1" }) };
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Host = "sanctum.example.com";
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        using var db = app.OpenDatabase();
        return (response, db.ExecuteScalar<string?>("SELECT ip_address FROM user_sessions"));
    }

    [Test]
    public async Task BehindATrustedProxyTheClientsAddressAndSchemeAreTheForwardedOnes()
    {
        var (response, address) = await LoginThroughProxyAsync("127.0.0.1, 10.0.0.0/8");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(address, Is.EqualTo("203.0.113.7"));
        Assert.That(response.Headers.GetValues("Set-Cookie").Single(), Does.Contain("secure"));
        Assert.That(response.Headers.Contains("Strict-Transport-Security"), Is.True, "HSTS on an HTTPS request");
    }

    [Test]
    public async Task WithoutTrustedProxiesForwardedHeadersAreIgnored()
    {
        var (response, address) = await LoginThroughProxyAsync(null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(address, Is.EqualTo("127.0.0.1"));
        Assert.That(response.Headers.GetValues("Set-Cookie").Single(), Does.Not.Contain("secure"));
        Assert.That(response.Headers.Contains("Strict-Transport-Security"), Is.False);
    }
}
