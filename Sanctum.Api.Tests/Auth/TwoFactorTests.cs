using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Tests.Auth;

/// <summary>
/// Two-factor sign-in through the real pipeline, the clock a FakeTimeProvider playing the authenticator app's clock:
/// enrolment, the code step of sign-in, the window's edges, replay, recovery codes, the challenge's limits, lockout,
/// the requirement setting and the admin's reset.
/// </summary>
public class TwoFactorTests
{
    private const string Password = "role-password-1";
    private FakeTimeProvider _clock = null!;
    private SanctumApplication _app = null!;

    private static SanctumApplication App(FakeTimeProvider clock, Dictionary<string, string?>? settings = null) =>
        new(settings) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };

    // One host for the fixture: every test enrols users of its own (codes, replay, recovery codes, challenges and
    // lockouts are per user) and reads back only their rows; the tests that need other settings start their own.
    [OneTimeSetUp]
    public void StartApplication()
    {
        _clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        _app = App(_clock, new() { ["Sanctum:LockoutThreshold"] = "100" });
    }

    [OneTimeTearDown]
    public void DisposeApplication() => _app.Dispose();

    /// <summary>One second into a fresh 30-second step, so "the next step" and "two steps on" are exact.</summary>
    [SetUp]
    public void NextStep()
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        _clock.Advance(TimeSpan.FromSeconds(30 - now % 30 + 1));
        Assert.That(_clock.GetUtcNow().ToUnixTimeSeconds() % 30, Is.EqualTo(1));
    }

    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    /// <summary>The audit log is written by a background writer: wait for it before reading audit rows.</summary>
    private static Task FlushAuditAsync(SanctumApplication app) =>
        app.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));

    private string Code(byte[] secret, TimeSpan offset = default) => TotpCodes.Compute(secret, _clock.GetUtcNow() + offset);

    /// <summary>A user with two-factor on: their secret and recovery codes. The confirming code's step is used up.</summary>
    private async Task<(string Username, byte[] Secret, string[] RecoveryCodes)> EnrolledUserAsync(SanctumApplication app, string role = "user")
    {
        var username = $"tf-{Guid.NewGuid():N}"[..16];
        var client = await app.CreateClientForRoleAsync(role, username);
        var enrolment = await (await client.PostAsync("/api/auth/2fa/totp", null)).JsonAsync();
        var secret = TotpCodes.FromBase32(enrolment.GetProperty("secret").GetString()!);
        var confirm = await client.PostAsJsonAsync("/api/auth/2fa/totp/confirm", new { code = Code(secret) });
        Assert.That(confirm.StatusCode, Is.EqualTo(HttpStatusCode.OK), await confirm.Content.ReadAsStringAsync());
        var codes = (await confirm.JsonAsync()).GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        return (username, secret, codes);
    }

    private async Task<string> ChallengeAsync(HttpClient client, string username)
    {
        var login = await client.PostAsJsonAsync("/api/auth/login", new { username, password = Password });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK), await login.Content.ReadAsStringAsync());
        var body = await login.JsonAsync();
        Assert.That(body.GetProperty("two_factor_required").GetBoolean(), Is.True);
        return body.GetProperty("challenge").GetString()!;
    }

    private static Task<HttpResponseMessage> SecondFactorAsync(HttpClient client, string challenge, string? code = null, string? recovery = null) =>
        client.PostAsJsonAsync("/api/auth/login/second-factor", new { challenge, code, recovery_code = recovery });

    [Test]
    public async Task EnrolmentGivesASecretAndUriKeepsTheSecretEncryptedAndTenRecoveryCodesHashed()
    {
        var client = await _app.CreateClientForRoleAsync("user", "alice");
        var enrolment = await (await client.PostAsync("/api/auth/2fa/totp", null)).JsonAsync();
        var secret = enrolment.GetProperty("secret").GetString()!;
        Assert.That(enrolment.GetProperty("otpauth_uri").GetString(), Does.StartWith("otpauth://totp/Sanctum:alice?secret=" + secret + "&issuer=Sanctum"));
        Assert.That((await (await client.GetAsync("/api/auth/2fa")).JsonAsync()).GetProperty("totp_pending").GetBoolean(), Is.True);
        var qr = await client.GetAsync("/api/auth/2fa/totp/qr");
        Assert.That(qr.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/svg+xml"));
        Assert.That(await qr.Content.ReadAsStringAsync(), Does.StartWith("<svg"));

        var wrong = await client.PostAsJsonAsync("/api/auth/2fa/totp/confirm", new { code = Code(TotpCodes.FromBase32(secret), 3 * Step) });
        await wrong.AssertProblemAsync(HttpStatusCode.BadRequest);
        var confirm = await client.PostAsJsonAsync("/api/auth/2fa/totp/confirm", new { code = Code(TotpCodes.FromBase32(secret)) });
        var codes = (await confirm.JsonAsync()).GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToArray();

        Assert.That(codes, Has.Length.EqualTo(10).And.Unique);
        Assert.That(codes, Has.All.Match("^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$"));
        var status = await (await client.GetAsync("/api/auth/2fa")).JsonAsync();
        Assert.That(status.GetProperty("totp_enabled").GetBoolean(), Is.True);
        Assert.That(status.GetProperty("recovery_codes_left").GetInt32(), Is.EqualTo(10));
        await (await client.PostAsync("/api/auth/2fa/totp", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        using var db = _app.OpenDatabase();
        var stored = db.QuerySingle<string>("SELECT t.secret FROM user_totp t JOIN users u ON u.id = t.user_id WHERE u.username = 'alice'");
        Assert.That(stored, Does.Not.Contain(secret));
        var hashes = string.Join(",", db.Query<string>("SELECT c.code_hash FROM user_recovery_codes c JOIN users u ON u.id = c.user_id WHERE u.username = 'alice'"));
        Assert.That(hashes.Split(','), Has.Length.EqualTo(10));
        Assert.That(codes.Any(c => hashes.Contains(c.Replace("-", ""), StringComparison.OrdinalIgnoreCase)), Is.False);
    }

    [Test]
    public async Task WithTwoFactorOnThePasswordGivesAChallengeNotASessionAndTheCodeGivesTheSession()
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        var client = _app.CreateClient();

        var login = await client.PostAsJsonAsync("/api/auth/login", new { username, password = Password });
        var body = await login.JsonAsync();
        Assert.That(body.GetProperty("two_factor_required").GetBoolean(), Is.True);
        Assert.That(body.TryGetProperty("token", out _), Is.False);
        Assert.That(login.Headers.Contains("Set-Cookie"), Is.False);
        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.username = @username", new { username }), Is.EqualTo(1),
                "only the session the enrolment used");

        _clock.Advance(Step);
        var second = await SecondFactorAsync(client, body.GetProperty("challenge").GetString()!, Code(secret));
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK), await second.Content.ReadAsStringAsync());
        var signedIn = await second.JsonAsync();
        Assert.That(signedIn.GetProperty("user").GetProperty("username").GetString(), Is.EqualTo(username));
        Assert.That(second.Headers.GetValues("Set-Cookie").Single(), Does.StartWith("sanctum_session="));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", signedIn.GetProperty("token").GetString());
        Assert.That((await client.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await FlushAuditAsync(_app);
        using var check = _app.OpenDatabase();
        Assert.That(check.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'auth.login.succeeded' ORDER BY id DESC LIMIT 1"), Does.Contain("\"second_factor\":\"totp\""));
    }

    [TestCase(-1, true)]
    [TestCase(1, true)]
    [TestCase(-2, false)]
    [TestCase(2, false)]
    public async Task ACodeIsGoodForItsStepAndOneEitherSide(int steps, bool accepted)
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        _clock.Advance(10 * Step);
        var client = _app.CreateClient();
        var response = await SecondFactorAsync(client, await ChallengeAsync(client, username), Code(secret, steps * Step));
        Assert.That(response.StatusCode, Is.EqualTo(accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task ACodeIsAcceptedOnceNotAgainWithinItsWindow()
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        _clock.Advance(Step);
        var code = Code(secret);
        var client = _app.CreateClient();

        Assert.That((await SecondFactorAsync(client, await ChallengeAsync(client, username), code)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        _clock.Advance(TimeSpan.FromSeconds(20));
        await (await SecondFactorAsync(client, await ChallengeAsync(client, username), code)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        // Nor an older code once a later one was used.
        await (await SecondFactorAsync(client, await ChallengeAsync(client, username), Code(secret, -Step))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        // The confirming code was used up at enrolment too: the next step's code works.
        _clock.Advance(Step);
        Assert.That((await SecondFactorAsync(client, await ChallengeAsync(client, username), Code(secret))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ARecoveryCodeSignsInOnceInAnySpelling()
    {
        var (username, _, codes) = await EnrolledUserAsync(_app);
        var client = _app.CreateClient();

        var first = await SecondFactorAsync(client, await ChallengeAsync(client, username), recovery: codes[3].ToUpperInvariant().Replace("-", " "));
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), await first.Content.ReadAsStringAsync());
        await (await SecondFactorAsync(client, await ChallengeAsync(client, username), recovery: codes[3])).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That((await SecondFactorAsync(client, await ChallengeAsync(client, username), recovery: codes[4])).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_recovery_codes c JOIN users u ON u.id = c.user_id WHERE u.username = @username AND c.used_at IS NULL", new { username }), Is.EqualTo(8));
    }

    [Test]
    public async Task AChallengeExpiresAfterFiveMinutes()
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        var client = _app.CreateClient();
        var challenge = await ChallengeAsync(client, username);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var late = await (await SecondFactorAsync(client, challenge, Code(secret))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(late.GetProperty("detail").GetString(), Does.Contain("expired"));

        var fresh = await ChallengeAsync(client, username);
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.That((await SecondFactorAsync(client, fresh, Code(secret))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AChallengeAllowsFiveTriesThenEvenTheRightCodeIsRefused()
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        _clock.Advance(Step);
        var client = _app.CreateClient();
        var challenge = await ChallengeAsync(client, username);
        var wrong = Code(secret, 5 * Step);

        for (var i = 0; i < TwoFactorLogin.Tries; i++)
            Assert.That((await SecondFactorAsync(client, challenge, wrong)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var right = await (await SecondFactorAsync(client, challenge, Code(secret))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(right.GetProperty("detail").GetString(), Does.Contain("used up"));
        Assert.That((await SecondFactorAsync(client, await ChallengeAsync(client, username), Code(secret))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task WrongCodesCountTowardTheLockoutLikeWrongPasswords()
    {
        using var app = App(_clock, new() { ["Sanctum:LockoutThreshold"] = "5" });
        var (username, secret, _) = await EnrolledUserAsync(app);
        _clock.Advance(Step);
        var client = app.CreateClient();
        var challenge = await ChallengeAsync(client, username);

        // The password step counted one attempt; four wrong codes make five.
        for (var i = 0; i < 4; i++) await SecondFactorAsync(client, challenge, Code(secret, 5 * Step));

        using (var db = app.OpenDatabase())
            Assert.That(db.QuerySingle<string?>("SELECT locked_until FROM users WHERE username = @username", new { username }), Is.Not.Null);
        await (await client.PostAsJsonAsync("/api/auth/login", new { username, password = Password })).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await FlushAuditAsync(app);
        using var check = app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login.failed' AND details LIKE '%wrong_totp%'"), Is.EqualTo(4));
    }

    [Test]
    public async Task RequiredForAdminsAnAdminWithoutItReachesOnlyTheEnrolment()
    {
        using var app = App(_clock, new() { ["Sanctum:TwoFactor:Require"] = "Admins" });
        var admin = await app.CreateClientForRoleAsync("admin");
        var user = await app.CreateClientForRoleAsync("user");

        Assert.That((await user.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var refused = await (await admin.GetAsync("/api/users")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(refused.GetProperty("type").GetString(), Does.EndWith("two-factor-enrolment-required"));
        await (await admin.PostAsJsonAsync("/api/auth/tokens", new { name = "dodge", scope = "write", expires_in_days = 30 })).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That((await (await admin.GetAsync("/api/auth/2fa")).JsonAsync()).GetProperty("required").GetBoolean(), Is.True);

        var secret = TotpCodes.FromBase32((await (await admin.PostAsync("/api/auth/2fa/totp", null)).JsonAsync()).GetProperty("secret").GetString()!);
        Assert.That((await admin.PostAsJsonAsync("/api/auth/2fa/totp/confirm", new { code = Code(secret) })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await admin.GetAsync("/api/users")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AnAdminResetTurnsItOffAndIsAuditedOthersMayNot()
    {
        var (username, _, _) = await EnrolledUserAsync(_app);
        long id;
        using (var db = _app.OpenDatabase()) id = db.QuerySingle<long>("SELECT id FROM users WHERE username = @username", new { username });
        var viewer = await _app.CreateClientForRoleAsync("user");
        await (await viewer.DeleteAsync($"/api/users/{id}/2fa")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var admin = await _app.CreateAdminClientAsync();
        await (await admin.DeleteAsync("/api/users/999999/2fa")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.That((await admin.DeleteAsync($"/api/users/{id}/2fa")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, Password), Is.Not.Null);
        await FlushAuditAsync(_app);
        using var check = _app.OpenDatabase();
        Assert.That(check.QuerySingle<string>("SELECT details FROM audit_log WHERE action = 'user.2fa.reset'"), Does.Contain("\"had_two_factor\":true"));
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = @id", new { id }), Is.EqualTo(0));
    }

    [Test]
    public async Task TurningItOffTakesACurrentCode()
    {
        var (username, secret, _) = await EnrolledUserAsync(_app);
        _clock.Advance(Step);
        var client = _app.CreateClient();
        var token = (await (await SecondFactorAsync(client, await ChallengeAsync(client, username), Code(secret))).JsonAsync()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var wrong = new HttpRequestMessage(HttpMethod.Delete, "/api/auth/2fa/totp") { Content = JsonContent.Create(new { code = Code(secret, 5 * Step) }) };
        await (await client.SendAsync(wrong)).AssertProblemAsync(HttpStatusCode.BadRequest);
        _clock.Advance(Step);
        var right = new HttpRequestMessage(HttpMethod.Delete, "/api/auth/2fa/totp") { Content = JsonContent.Create(new { code = Code(secret) }) };
        Assert.That((await client.SendAsync(right)).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, Password), Is.Not.Null);
    }

    [Test]
    public async Task BadSecondFactorBodiesAre400()
    {
        var client = _app.CreateClient();
        await (await SecondFactorAsync(client, "x")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await SecondFactorAsync(client, "x", "12345")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await SecondFactorAsync(client, "x", "123456", "aaaa-bbbb-cccc-dddd")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await SecondFactorAsync(client, "", "123456")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await SecondFactorAsync(client, "unknown", "123456")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
