using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Tests.Evidence;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Issue 23 (the second outside review): items 3, 7, 9, 13, 14, 15 and 17; item 1 is in BodyBeforeSignInTests, 16 in PasswordPolicyTests.</summary>
public class SecondReviewTests : ManagementFixture
{
    private async Task<string> TokenAsync(string scope)
    {
        var response = await Admin.PostAsJsonAsync("/api/auth/tokens", new { name = $"review-{scope}-{Guid.NewGuid():N}"[..30], expires_in_days = 1, scope });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("token").GetString()!;
    }

    private HttpClient Bearer(string token) => _app.CreateClient().WithToken(token);

    [Test]
    public async Task AReadScopeTokenCannotRevealSecretsDownloadBackupsOrReadTheAuditLog()
    {
        var read = Bearer(await TokenAsync("read"));
        var backup = (await (await Admin.PostAsync("/api/backups", null)).JsonAsync()).GetProperty("name").GetString();
        await (await read.GetAsync("/api/config/chat_api_key?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await read.GetAsync("/api/configurations?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await read.GetAsync($"/api/backups/{backup}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await read.GetAsync("/api/audit")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await read.GetAsync("/api/audit/verify")).AssertProblemAsync(HttpStatusCode.Forbidden);
        // What a read token is for still works: masked reads.
        var masked = await read.GetAsync("/api/config/chat_api_key");
        Assert.That(masked.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await masked.JsonAsync()).GetProperty("value").GetString(), Is.EqualTo("********"));

        var write = Bearer(await TokenAsync("write"));
        Assert.That((await write.GetAsync("/api/config/chat_api_key?reveal=true")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await write.GetAsync($"/api/backups/{backup}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await write.GetAsync("/api/audit")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task TheContractSaysWhichReadsAReadScopeTokenMayNotMake()
    {
        var document = await _clients.Anonymous.GetStringAsync("/swagger/v1/swagger.json");
        var paths = JsonDocument.Parse(document).RootElement.GetProperty("paths");
        Assert.That(paths.GetProperty("/api/backups/{name}").GetProperty("get").GetProperty("description").GetString(), Does.Contain("read-scope access token is refused"));
        Assert.That(paths.GetProperty("/api/audit").GetProperty("get").GetProperty("description").GetString(), Does.Contain("read-scope access token is refused"));
        Assert.That(paths.GetProperty("/api/config/{key}").GetProperty("get").GetProperty("description").GetString(), Does.Contain("reveal=true a read-scope access token"));
    }

    [Test]
    public async Task TheDatabaseAndBackupsAreOwnerOnly()
    {
        if (OperatingSystem.IsWindows()) Assert.Ignore("Unix file modes");
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var name = (await (await Admin.PostAsync("/api/backups", null)).JsonAsync()).GetProperty("name").GetString()!;
        Assert.That(File.GetUnixFileMode(Path.Combine(_app.DataDirectory, "backups", name)), Is.EqualTo(ownerOnly));
        if (!TestEngine.IsPostgres) Assert.That(File.GetUnixFileMode(_app.DatabasePath), Is.EqualTo(ownerOnly));
    }

    [Test]
    public async Task ChangingOnesPasswordEndsOnesAccessTokens()
    {
        var user = await _app.CreateClientForRoleAsync("user");
        var created = await user.PostAsJsonAsync("/api/auth/tokens", new { name = "mine", expires_in_days = 1, scope = "read" });
        var token = (await created.JsonAsync()).GetProperty("token").GetString()!;
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var change = await user.PostAsJsonAsync("/api/auth/password", new { current_password = "role-password-1", new_password = "a-brand-new-phrase-7" });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await change.Content.ReadAsStringAsync());
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task WrongCurrentPasswordsAreAuditedAndLockTheAccount()
    {
        var username = $"guess-{Guid.NewGuid():N}"[..16];
        var user = await _app.CreateClientForRoleAsync("user", username);
        for (var i = 0; i < 5; i++)
            await (await user.PostAsJsonAsync("/api/auth/password", new { current_password = $"wrong-guess-{i}", new_password = "a-brand-new-phrase-7" }))
                .AssertProblemAsync(HttpStatusCode.BadRequest);
        // Locked now: even the right current password is refused, and so is a sign-in.
        var locked = await (await user.PostAsJsonAsync("/api/auth/password", new { current_password = "role-password-1", new_password = "a-brand-new-phrase-7" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(locked.GetProperty("errors").GetProperty("current_password")[0].GetString(), Does.Contain("locked"));
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "role-password-1"), Is.Null);
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.password.change_failed'"), Is.GreaterThanOrEqualTo(4));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.lockout'"), Is.GreaterThanOrEqualTo(1));
    }
}

/// <summary>Issue 23 item 3: behind a reverse proxy admin123 never claims a fresh install; on a real Kestrel port.</summary>
public class DefaultPasswordBehindAProxyTests
{
    private static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string password, string? forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "admin", password }) };
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    [TestCase("Sanctum:TrustedProxies", "127.0.0.1")]
    [TestCase("Sanctum:PublicOrigins", "https://sanctum.example.com")]
    public async Task AFreshInstallReachableFromElsewhereGetsAOneTimePasswordEvenOnLoopback(string key, string value)
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { [key] = value });
        app.UseKestrelOnLoopback();
        app.StartServer();
        var file = Path.Combine(app.DataDirectory, "initial-admin-password");
        Assert.That(File.Exists(file), Is.True, "no one-time password although the service is reachable from elsewhere");
        var client = app.CreateClient();
        Assert.That((await LoginAsync(client, "admin123", "203.0.113.7")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await LoginAsync(client, "admin123", null)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await LoginAsync(client, (await File.ReadAllTextAsync(file)).Trim(), null)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Admin123IsRefusedFromAnyClientThatIsNotLoopback()
    {
        // An install that began on loopback and was later put behind a proxy still has admin123.
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:TrustedProxies"] = "127.0.0.1" });
        app.UseKestrelOnLoopback();
        app.StartServer();
        using (var db = app.OpenDatabase())
            db.Execute("UPDATE users SET password_hash = @hash WHERE username = 'admin'", new { hash = BCrypt.Net.BCrypt.HashPassword("admin123", 4) });
        var client = app.CreateClient();
        var refused = await LoginAsync(client, "admin123", "203.0.113.7");
        await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That((await LoginAsync(client, "admin123", null)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "from this machine it still works");
        using var check = app.OpenDatabase();
        Assert.That(check.ExecuteScalar<string>("SELECT details FROM audit_log WHERE action = 'auth.login.failed' ORDER BY id DESC LIMIT 1"),
            Does.Contain("default_password_not_loopback"));
    }
}

/// <summary>Issue 23 item 13: the anonymous responses limit holds however many session ids a client makes up.</summary>
public class ResponsesLimitTests
{
    [Test]
    public async Task NewSessionIdsDoNotBuyANewBudget()
    {
        // On PostgreSQL the windows are whole minutes of the service's clock, shared between requests: a clock standing at
        // the start of one keeps all five requests in the same window (the real clock could cross into the next).
        var now = DateTimeOffset.UtcNow;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero));
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:ResponsesPerMinute"] = "3" })
        {
            TestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        var client = app.CreateClient();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            codes.Add((await client.GetAsync($"/api/v1/?action=responses&session_id=session_made_up_{i}")).StatusCode);
        Assert.That(codes.Take(3), Has.None.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(codes.Skip(3), Has.All.EqualTo(HttpStatusCode.TooManyRequests));
    }
}

/// <summary>Issues 23 items 14 and 15: options checked at start; a relative data directory is the application's folder's.</summary>
public class StartupOptionsTests
{
    [Test]
    public async Task AnInvalidPublicOriginEndsTheStartWithOneLine()
    {
        var directory = ServerProcess.NewDataDirectory();
        try
        {
            var (exitCode, output) = await ServerProcess.RunToExitAsync(directory, new Dictionary<string, string> { ["Sanctum:PublicOrigins"] = "sanctum.example.com" });
            Assert.That(exitCode, Is.EqualTo(1), output);
            Assert.That(output, Does.Contain("Sanctum:PublicOrigins"));
            Assert.That(output, Does.Not.Contain("   at "), "a stack trace instead of one line");
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(directory);
        }
    }

    [Test]
    public async Task ARelativeDataDirectoryIsTheApplicationsFoldersWhateverTheWorkingDirectory()
    {
        var relative = $"review-data-{Guid.NewGuid():N}";
        var elsewhere = ServerProcess.NewDataDirectory();
        Directory.CreateDirectory(elsewhere);
        var expected = Path.Combine(AppContext.BaseDirectory, relative);
        try
        {
            await using (await ServerProcess.StartAsync(elsewhere, new Dictionary<string, string> { ["Sanctum:DataDirectory"] = relative }, workingDirectory: elsewhere))
            {
                Assert.That(File.Exists(Path.Combine(expected, "sanctum.db")) || TestEngine.IsPostgres, Is.True, "not under the application's folder");
                Assert.That(Directory.Exists(Path.Combine(elsewhere, relative)), Is.False, "a fresh install in the working directory");
            }
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(elsewhere);
            ServerProcess.DeleteDataDirectory(expected);
        }
    }
}
