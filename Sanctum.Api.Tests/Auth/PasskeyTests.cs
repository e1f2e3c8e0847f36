using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.Auth;

/// <summary>
/// Passkeys through the real pipeline, where no authenticator is needed: the ceremonies' options, their single use,
/// refusals of answers that are not WebAuthn, the password step with a passkey on the account, the admin's reset, and
/// Sanctum:Oidc:DisableLocalLogin. The authenticator's side is in Browser/PasskeyPageTests (Chromium's virtual one).
/// </summary>
public class PasskeyTests
{
    private const string Password = "role-password-1";

    private static Task FlushAuditAsync(SanctumApplication app) =>
        app.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));

    /// <summary>A passkey row as registration would leave it (the key is never used here: no answer verifies).</summary>
    private static long AddPasskey(SanctumApplication app, string username, string credentialId = "AAECAwQFBgcICQ")
    {
        using var db = app.OpenDatabase();
        return db.ExecuteScalar<long>("""
            INSERT INTO user_passkeys (user_id, credential_id, public_key, name)
            SELECT id, @credentialId, 'pQECAyYgASFYIA', 'test key' FROM users WHERE username = @username RETURNING id
            """, new { username, credentialId });
    }

    [Test]
    public async Task RegistrationOptionsNameTheServerAsRelyingPartyAndTheCeremonyIsUsedOnce()
    {
        using var app = new SanctumApplication();
        var client = await app.CreateClientForRoleAsync("user", "pk-alice");
        var started = await (await client.PostAsync("/api/auth/passkeys/registration", null)).JsonAsync();
        var options = started.GetProperty("options");
        Assert.That(options.GetProperty("rp").GetProperty("id").GetString(), Is.EqualTo("localhost"));
        Assert.That(options.GetProperty("user").GetProperty("name").GetString(), Is.EqualTo("pk-alice"));
        Assert.That(options.GetProperty("challenge").GetString(), Has.Length.GreaterThanOrEqualTo(16));
        Assert.That(options.GetProperty("authenticatorSelection").GetProperty("residentKey").GetString(), Is.EqualTo("required"));

        var ceremony = started.GetProperty("ceremony").GetString();
        var bogus = new { id = "AAAA", rawId = "AAAA", type = "public-key", response = new { clientDataJSON = "e30", attestationObject = "oA" }, clientExtensionResults = new { } };
        var first = await client.PostAsJsonAsync("/api/auth/passkeys", new { ceremony, name = "laptop", credential = bogus });
        await first.AssertProblemAsync(HttpStatusCode.BadRequest);
        // Spent by the refused answer: the same ceremony is unknown now.
        var again = await client.PostAsJsonAsync("/api/auth/passkeys", new { ceremony, name = "laptop", credential = bogus });
        var problem = await again.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty("ceremony", out _), Is.True, problem.ToString());
        Assert.That((await (await client.GetAsync("/api/auth/passkeys")).JsonAsync()).GetArrayLength(), Is.Zero);
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_passkeys"), Is.Zero);
    }

    [Test]
    public async Task ACeremonyOfAnotherUserOrANonAnswerIsRefusedWithoutSpendingAnything()
    {
        using var app = new SanctumApplication();
        var alice = await app.CreateClientForRoleAsync("user", "pk-alice2");
        var bob = await app.CreateClientForRoleAsync("user", "pk-bob2");
        var ceremony = (await (await alice.PostAsync("/api/auth/passkeys/registration", null)).JsonAsync()).GetProperty("ceremony").GetString();
        var notAnAnswer = await alice.PostAsJsonAsync("/api/auth/passkeys", new { ceremony, name = "x", credential = "text" });
        Assert.That((await notAnAnswer.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("credential", out _), Is.True);
        var bobs = await bob.PostAsJsonAsync("/api/auth/passkeys", new
        {
            ceremony, name = "x",
            credential = new { id = "AAAA", rawId = "AAAA", type = "public-key", response = new { clientDataJSON = "e30", attestationObject = "oA" }, clientExtensionResults = new { } },
        });
        await bobs.AssertProblemAsync(HttpStatusCode.BadRequest);
        var missing = await alice.PostAsJsonAsync("/api/auth/passkeys", new { ceremony, name = "", credential = (object?)null });
        var errors = (await missing.AssertProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.That(errors.TryGetProperty("name", out _) && errors.TryGetProperty("credential", out _), Is.True, errors.ToString());
    }

    [Test]
    public async Task WithAPasskeyThePasswordStepAsksForASecondFactorAndItsOptionsListOnlyThatAccountsPasskeys()
    {
        using var app = new SanctumApplication();
        (await app.CreateClientForRoleAsync("user", "pk-carol")).Dispose();
        AddPasskey(app, "pk-carol");
        var client = app.CreateClient();
        var login = await client.PostAsJsonAsync("/api/auth/login", new { username = "pk-carol", password = Password });
        var body = await login.JsonAsync();
        Assert.That(body.GetProperty("two_factor_required").GetBoolean(), Is.True, body.ToString());
        Assert.That(body.GetProperty("methods").EnumerateArray().Select(m => m.GetString()), Is.EqualTo(new[] { "passkey" }));
        Assert.That(body.TryGetProperty("token", out _), Is.False);
        Assert.That(login.Headers.Contains("Set-Cookie"), Is.False);

        var challenge = body.GetProperty("challenge").GetString();
        var options = (await (await client.PostAsJsonAsync("/api/auth/login/passkey/options", new { challenge })).JsonAsync()).GetProperty("options");
        Assert.That(options.GetProperty("allowCredentials").EnumerateArray().Select(c => c.GetProperty("id").GetString()), Is.EqualTo(new[] { "AAECAwQFBgcICQ" }));
        Assert.That(options.GetProperty("rpId").GetString(), Is.EqualTo("localhost"));

        var unknown = await client.PostAsJsonAsync("/api/auth/login/passkey/options", new { challenge = "not-a-challenge" });
        await unknown.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task AnAnswerThatDoesNotVerifyIsRefusedCountsTowardTheLockoutAndSpendsTheCeremony()
    {
        using var app = new SanctumApplication();
        (await app.CreateClientForRoleAsync("user", "pk-dave")).Dispose();
        AddPasskey(app, "pk-dave", "ZGF2ZS1rZXk");
        var client = app.CreateClient();
        var started = await (await client.PostAsJsonAsync("/api/auth/login/passkey/options", new { })).JsonAsync();
        Assert.That(started.GetProperty("options").GetProperty("allowCredentials").GetArrayLength(), Is.Zero, "password-less: any discoverable passkey");
        Assert.That(started.GetProperty("options").GetProperty("userVerification").GetString(), Is.EqualTo("required"));
        var ceremony = started.GetProperty("ceremony").GetString();
        var forged = new
        {
            id = "ZGF2ZS1rZXk", rawId = "ZGF2ZS1rZXk", type = "public-key", clientExtensionResults = new { },
            response = new { clientDataJSON = "e30", authenticatorData = "AAAA", signature = "AAAA", userHandle = "MQ" },
        };
        var refused = await client.PostAsJsonAsync("/api/auth/login/passkey", new { ceremony, credential = forged });
        await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var replayed = await client.PostAsJsonAsync("/api/auth/login/passkey", new { ceremony, credential = forged });
        await replayed.AssertProblemAsync(HttpStatusCode.Unauthorized);

        await FlushAuditAsync(app);
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT failed_login_attempts FROM users WHERE username = 'pk-dave'"), Is.EqualTo(1));
        Assert.That(db.ExecuteScalar<long>(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login.failed' AND details LIKE '%wrong_passkey%'"), Is.EqualTo(1));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM passkey_ceremonies"), Is.Zero);
    }

    [Test]
    public async Task AnAdminsResetRemovesThePasskeysToo()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        (await app.CreateClientForRoleAsync("user", "pk-erin")).Dispose();
        AddPasskey(app, "pk-erin");
        long id;
        using (var db = app.OpenDatabase()) id = db.ExecuteScalar<long>("SELECT id FROM users WHERE username = 'pk-erin'");

        (await admin.DeleteAsync($"/api/users/{id}/2fa")).EnsureSuccessStatusCode();
        using var after = app.OpenDatabase();
        Assert.That(after.ExecuteScalar<long>("SELECT COUNT(*) FROM user_passkeys"), Is.Zero);
        Assert.That(await SanctumApplication.LoginAsync(app.CreateClient(), "pk-erin", Password), Is.Not.Null, "the password alone signs in again");
        await FlushAuditAsync(app);
        Assert.That(after.ExecuteScalar<string>("SELECT details FROM audit_log WHERE action = 'user.2fa.reset'"), Does.Contain("\"passkeys_removed\":1"));
    }

    [Test]
    public async Task WithLocalLoginDisabledOnlyTheBreakGlassAdminSignsInWithAPassword()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:Oidc:Authority"] = "http://127.0.0.1:9/", ["Sanctum:Oidc:ClientId"] = "sanctum", ["Sanctum:Oidc:RequireHttpsMetadata"] = "false",
            ["Sanctum:Oidc:DisableLocalLogin"] = "true", ["Sanctum:Oidc:BreakGlassUser"] = "admin",
        });
        (await app.CreateAdminClientAsync()).Dispose();
        using (var db = app.OpenDatabase())
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES ('pk-frank', 'f@example.test', @hash, 'user')",
                new { hash = BCrypt.Net.BCrypt.HashPassword(Password, 4) });
        var client = app.CreateClient();
        var refused = await client.PostAsJsonAsync("/api/auth/login", new { username = "pk-frank", password = Password });
        Assert.That((await refused.AssertProblemAsync(HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), Does.Contain("turned off"));
        Assert.That(await SanctumApplication.LoginAsync(client, "admin", SanctumApplication.AdminPassword), Is.Not.Null);
        var methods = await (await client.GetAsync("/api/auth/login/methods")).JsonAsync();
        Assert.That(methods.GetProperty("password").GetBoolean() || methods.GetProperty("passkey").GetBoolean(), Is.False);
        var passwordless = await client.PostAsJsonAsync("/api/auth/login/passkey/options", new { });
        await passwordless.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var check = app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT failed_login_attempts FROM users WHERE username = 'pk-frank'"), Is.Zero, "a refused sign-in counts nothing");
    }
}
