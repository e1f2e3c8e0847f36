using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;

namespace Sanctum.Api.Tests.Operations;

/// <summary>
/// Records a restore must not rewind: the audit log outlives it and records it, sessions end, token revocations made
/// after the backup hold, and the report names every table whose content changed. The same on PostgreSQL.
/// </summary>
public class RestoreRecordsTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [SetUp]
    public async Task Start()
    {
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _admin = await _app.CreateAdminClientAsync();
    }

    [TearDown]
    public void Stop() => _app?.Dispose();

    private async Task<JsonElement> RestoreAsync(string name)
    {
        var response = await _admin.PostAsync($"/api/backups/{name}/restore", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private List<AuditEntry> AuditRows()
    {
        using var db = _app.OpenDatabase();
        return db.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id").ToList();
    }

    [Test]
    public async Task TheAuditLogOutlivesARestoreAndRecordsWhoRestoredWhatAndWhatChanged()
    {
        var name = await BackupZips.CreateAsync(_admin);
        Assert.That((await _admin.PostAsJsonAsync("/api/users", new { username = "erin", email = "erin@example.test", password = "harbor-lantern-12" })).IsSuccessStatusCode);
        await _app.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        var before = AuditRows();
        Assert.That(before.Select(r => r.Action), Does.Contain("user.created"));

        await RestoreAsync(name);

        var after = AuditRows();
        Assert.That(after.Take(before.Count).Select(r => (r.Id, r.Hash)), Is.EqualTo(before.Select(r => (r.Id, r.Hash))), "every row kept, unchanged");
        var restored = after.Single(r => r.Action == "backup.restored");
        Assert.That(restored.Id, Is.GreaterThan(before[^1].Id));
        Assert.That((restored.Actor, restored.TargetId, restored.Outcome), Is.EqualTo(("admin", name, "ok")));
        var details = JsonDocument.Parse(restored.Details!).RootElement;
        Assert.That(details.GetProperty("pre_restore").GetString(), Does.Contain("pre-restore"));
        var users = details.GetProperty("changed").GetProperty("users");
        Assert.That((users.GetProperty("before").GetInt64(), users.GetProperty("after").GetInt64(), users.GetProperty("removed").GetInt64()), Is.EqualTo((2L, 1L, 1L)));

        var admin = await _app.CreateAdminClientAsync();
        var verified = await admin.GetFromJsonAsync<JsonElement>("/api/audit/verify");
        Assert.That(verified.GetProperty("ok").GetBoolean(), Is.True, verified.ToString());
    }

    [Test]
    public async Task ARestoreEndsEverySessionAndKeepsTheTokenRevocationsMadeAfterTheBackup()
    {
        var viewer = await _app.CreateClientForRoleAsync("viewer");
        var kept = await CreateTokenAsync("kept");
        var revoked = await CreateTokenAsync("revoked");
        var name = await BackupZips.CreateAsync(_admin);
        Assert.That((await _admin.DeleteAsync($"/api/auth/tokens/{revoked.Id}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        var report = await RestoreAsync(name);

        Assert.That(report.GetProperty("session_kept").GetBoolean(), Is.False);
        Assert.That(report.GetProperty("sessions_ended").GetInt32(), Is.GreaterThanOrEqualTo(2));
        Assert.That(report.GetProperty("tokens_kept_revoked").GetInt32(), Is.EqualTo(1));
        Assert.That((await _admin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the restoring admin signs in again too");
        Assert.That((await viewer.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await Bearer(revoked.Token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "revoked after the backup: stays revoked");
        Assert.That((await Bearer(kept.Token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.Zero);
    }

    [Test]
    public async Task TheReportNamesEveryTableWhoseContentChangedNotOnlyCounts()
    {
        var name = await BackupZips.CreateAsync(_admin);
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE users SET email = 'moved@example.test' WHERE username = 'admin'");

        var report = await RestoreAsync(name);

        var tables = report.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("table").GetString()!);
        var users = tables["users"];
        Assert.That((users.GetProperty("before").GetInt64(), users.GetProperty("after").GetInt64()), Is.EqualTo((1L, 1L)), "the count is the same");
        Assert.That((users.GetProperty("changed").GetInt64(), users.GetProperty("added").GetInt64(), users.GetProperty("removed").GetInt64()), Is.EqualTo((1L, 0L, 0L)));
        Assert.That(users.GetProperty("content_changed").GetBoolean(), Is.True);
        Assert.That(tables["agents"].GetProperty("content_changed").GetBoolean(), Is.False);
        Assert.That(tables["audit_log"].GetProperty("content_changed").GetBoolean(), Is.False, "the audit log is carried over, not restored");
    }

    private async Task<(long Id, string Token)> CreateTokenAsync(string name)
    {
        var created = await (await _admin.PostAsJsonAsync("/api/auth/tokens", new { name, scope = "read", expires_in_days = 30 })).JsonAsync();
        return (created.GetProperty("id").GetInt64(), created.GetProperty("token").GetString()!);
    }

    private HttpClient Bearer(string token)
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
