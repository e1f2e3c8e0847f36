using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Auth events go through AuditLog.Record, naming fields, never a password, token or hash.</summary>
public class AuditEventsTests
{
    [Test]
    public async Task SignInsLockoutsPasswordUserAndTokenEventsAreRecordedWithoutSecrets()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:LockoutThreshold"] = "2" });
        var logs = new LogCapture();
        using var factory = logs.Attach(app);
        var anonymous = factory.CreateClient();
        Assert.That(await SanctumApplication.LoginAsync(anonymous, "admin", "wrong-password-1"), Is.Null);
        Assert.That(await SanctumApplication.LoginAsync(anonymous, "admin", "wrong-password-2"), Is.Null);
        using (var db = app.OpenDatabase()) db.Execute("UPDATE users SET locked_until = NULL, failed_login_attempts = 0 WHERE username = 'admin'");

        var token = await SanctumApplication.LoginAsync(anonymous, "admin", "admin123");
        var admin = factory.CreateClient().WithToken(token!);
        Assert.That((await admin.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = SanctumApplication.AdminPassword })).StatusCode,
            Is.EqualTo(HttpStatusCode.NoContent));
        var created = await (await admin.PostAsJsonAsync("/api/users", new { username = "audited", email = "audited@example.test", role = "user" })).JsonAsync();
        var id = created.GetProperty("id").GetInt64();
        var temporary = created.GetProperty("temporary_password").GetString()!;
        await admin.PatchAsJsonAsync($"/api/users/{id}", new { role = "viewer", email = "new@example.test" });
        await admin.PostAsJsonAsync($"/api/users/{id}/password", new { });
        var pat = await (await admin.PostAsJsonAsync("/api/auth/tokens", new { name = "audit", expires_in_days = 1, scope = "read" })).JsonAsync();
        await admin.DeleteAsync($"/api/auth/tokens/{pat.GetProperty("id").GetInt64()}");
        await admin.PostAsync("/api/auth/logout", null);

        var audit = logs.Lines.Where(l => l.Contains("Audit ")).ToList();
        foreach (var action in new[]
        {
            "auth.login.failed", "auth.lockout", "auth.login.succeeded", "auth.password.changed", "user.created", "user.updated",
            "user.role.changed", "user.password.reset", "token.created", "token.revoked", "auth.logout",
        })
            Assert.That(audit, Has.Some.Contains($"Audit {action} "), action);
        Assert.That(audit.Single(l => l.Contains("Audit user.updated ")), Does.Contain("role").And.Contain("email"));
        foreach (var secret in new[] { "admin123", SanctumApplication.AdminPassword, temporary, pat.GetProperty("token").GetString()!, "$2" })
            Assert.That(logs.Text, Does.Not.Contain(secret), "a secret reached the log");
    }
}
