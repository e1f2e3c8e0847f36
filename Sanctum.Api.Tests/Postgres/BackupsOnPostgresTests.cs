using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Tests.Operations;

namespace Sanctum.Api.Tests.Postgres;

/// <summary>
/// Backups on PostgreSQL through the HTTP API, as on SQLite: pg_dump into the same backups folder, the same listing,
/// checks and audit; a restore puts the data back in place and every instance on the database sees it.
/// </summary>
[TestFixture]
public sealed class BackupsOnPostgresTests
{
    private TwoInstances? _instances;
    private SanctumApplication _first = null!;
    private HttpClient _admin = null!, _otherAdmin = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        TestEngine.RequirePostgres("pg_dump and pg_restore back up a PostgreSQL database");
        _instances = new TwoInstances();
        _first = _instances.First;
        _admin = await _first.CreateAdminClientAsync();
        _otherAdmin = await _instances.Second.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public void Stop() => _instances?.Dispose();

    [Test, Order(1)]
    public async Task ARestoreBringsBackTheDataOfTheBackupOnEveryInstance()
    {
        var carol = await (await _admin.PostAsJsonAsync("/api/users", new { username = "carol", email = "carol@example.test", password = "crimson-lantern-1" })).JsonAsync();
        var carolId = carol.GetProperty("id").GetInt64();
        Assert.That((await _admin.PutAsJsonAsync("/api/config/env/BACKED_UP", new { value = "before-the-backup", is_encrypted = true })).IsSuccessStatusCode);
        var tool = (await ToolsAsync(_otherAdmin)).First();
        var toolId = tool["id"]!.GetValue<string>();
        var toolStatus = tool["status"]!.GetValue<string>();

        var token = await (await _admin.PostAsJsonAsync("/api/auth/tokens", new { name = "revoked-later", scope = "read", expires_in_days = 1 })).JsonAsync();
        var name = await BackupZips.CreateAsync(_admin);
        Assert.That(name, Does.Match(@"^sanctum-\d{8}-\d{6}-manual\.zip$"));
        // Backups are files in the instance's backups folder (Sanctum:Backups:Directory: shared storage to see them on all).
        var listed = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).EnumerateArray().Single();
        Assert.That(listed.GetProperty("schema_version").GetInt64(), Is.EqualTo(4));
        var zip = await _admin.GetByteArrayAsync($"/api/backups/{name}");
        Assert.That(BackupZips.Entries(zip).Keys.Order(), Is.EqualTo(new[] { "manifest.json", "manifest.sig", "sanctum.pgdump" }),
            "pg_dump's custom format; the key ring is a table in it");
        Assert.That(BackupZips.Entries(zip)["sanctum.pgdump"].Take(5), Is.EqualTo("PGDMP"u8.ToArray()));
        var verified = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{name}/verify");
        Assert.That(verified.GetProperty("ok").GetBoolean(), Is.True, verified.ToString());

        // Changes after the backup, the tool through the other instance (whose tools cache then holds the change).
        Assert.That((await _admin.PostAsJsonAsync("/api/users", new { username = "dave", email = "dave@example.test", password = "violet-orchard-12" })).IsSuccessStatusCode);
        Assert.That((await _admin.PatchAsJsonAsync($"/api/users/{carolId}", new { email = "changed@example.test" })).IsSuccessStatusCode);
        Assert.That((await _admin.PutAsJsonAsync("/api/config/env/BACKED_UP", new { value = "after-the-backup", is_encrypted = true })).IsSuccessStatusCode);
        var other = toolStatus == "Off" ? "Degraded" : "Off";
        Assert.That((await _otherAdmin.PatchAsJsonAsync($"/api/tools/{toolId}", new { status = other })).IsSuccessStatusCode);
        Assert.That((await ToolsAsync(_otherAdmin)).Single(t => t["id"]!.GetValue<string>() == toolId)["status"]!.GetValue<string>(), Is.EqualTo(other));

        Assert.That((await _admin.DeleteAsync($"/api/auth/tokens/{token.GetProperty("id").GetInt64()}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        await _first.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        await _instances!.Second.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        List<(long Id, string Hash)> auditBefore;
        using (var db = _first.OpenDatabase()) auditBefore = db.Query<(long, string)>("SELECT id, hash FROM audit_log ORDER BY id").ToList();

        var response = await _admin.PostAsync($"/api/backups/{name}/restore", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var report = await response.JsonAsync();
        Assert.That(report.GetProperty("restored").GetString(), Is.EqualTo(name));
        Assert.That(report.GetProperty("session_kept").GetBoolean(), Is.False, "a restore ends every session, on every instance");
        Assert.That(report.GetProperty("tokens_kept_revoked").GetInt32(), Is.EqualTo(1));
        Assert.That((await _otherAdmin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var revoked = _first.CreateClient();
        revoked.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
        Assert.That((await revoked.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "revoked after the backup: stays revoked");
        using (var db = _first.OpenDatabase())
        {
            var auditAfter = db.Query<(long, string)>("SELECT id, hash FROM audit_log ORDER BY id").ToList();
            Assert.That(auditAfter.Take(auditBefore.Count), Is.EqualTo(auditBefore), "the audit log is not rewound by pg_restore");
            Assert.That(db.ExecuteScalar<string>("SELECT actor FROM audit_log WHERE action = 'backup.restored' ORDER BY id DESC LIMIT 1"), Is.EqualTo("admin"));
        }
        _admin = await _first.CreateAdminClientAsync();
        _otherAdmin = await _instances.Second.CreateAdminClientAsync();
        Assert.That((await _admin.GetFromJsonAsync<JsonElement>("/api/audit/verify")).GetProperty("ok").GetBoolean(), Is.True);
        var users = report.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == "users");
        Assert.That(users.GetProperty("before").GetInt64(), Is.EqualTo(users.GetProperty("after").GetInt64() + 1), "dave is gone");

        // Read through the other instance: its caches noticed the restore's commit.
        var names = (await _otherAdmin.GetFromJsonAsync<JsonElement>("/api/users?limit=200")).GetProperty("items").EnumerateArray()
            .Select(u => u.GetProperty("username").GetString()).ToList();
        Assert.That(names, Does.Contain("carol").And.Not.Contain("dave"));
        Assert.That((await _otherAdmin.GetFromJsonAsync<JsonElement>($"/api/users/{carolId}")).GetProperty("email").GetString(), Is.EqualTo("carol@example.test"));
        Assert.That((await _otherAdmin.GetFromJsonAsync<JsonElement>("/api/config/env/BACKED_UP?reveal=true")).GetProperty("value").GetString(),
            Is.EqualTo("before-the-backup"));
        Assert.That((await ToolsAsync(_otherAdmin)).Single(t => t["id"]!.GetValue<string>() == toolId)["status"]!.GetValue<string>(), Is.EqualTo(toolStatus));

        var kinds = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).EnumerateArray().Select(b => b.GetProperty("kind").GetString()).Order().ToList();
        Assert.That(kinds, Is.EqualTo(new[] { "manual", "pre-restore" }));
        await _first.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        var audit = await _admin.GetFromJsonAsync<JsonElement>("/api/audit?action=backup.restored");
        Assert.That(audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("target_id").GetString()), Does.Contain(name));
    }

    [Test, Order(2)]
    public async Task AnUploadIsCheckedByPgRestoreAndABackupOfTheOtherEngineIsRefused()
    {
        var name = await BackupZips.CreateAsync(_admin);
        var zip = await _admin.GetByteArrayAsync($"/api/backups/{name}");
        var upload = await _admin.PostAsync("/api/backups/upload", BackupZips.Body(zip));
        Assert.That(upload.StatusCode, Is.EqualTo(HttpStatusCode.Created), await upload.Content.ReadAsStringAsync());

        var before = await _admin.GetFromJsonAsync<JsonElement>("/api/backups");
        var key = _first.Services.GetRequiredService<Sanctum.Api.Audit.RecordKeys>().BackupKey;
        var sqlite = WithDatabase(zip, "sanctum.db", dump => dump, key);
        var refused = await (await _admin.PostAsync("/api/backups/upload", BackupZips.Body(sqlite))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(refused.ToString(), Does.Contain("this server uses PostgreSQL"));
        var garbled = WithDatabase(zip, "sanctum.pgdump", dump => [.. dump.Take(dump.Length / 2)], key);
        refused = await (await _admin.PostAsync("/api/backups/upload", BackupZips.Body(garbled))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(refused.ToString(), Does.Contain("pg_restore"));
        Assert.That((await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).GetArrayLength(), Is.EqualTo(before.GetArrayLength()), "nothing stored");
    }

    [Test, Order(3)]
    public async Task WithoutPgDumpABackupAnswers503NamingTheSettingAndStoresNothing()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:PostgresBinDirectory"] = "/nonexistent/bin" });
        var admin = await app.CreateAdminClientAsync();
        var problem = await (await admin.PostAsync("/api/backups", null)).AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Sanctum:PostgresBinDirectory").And.Contain("pg_dump"));
        Assert.That(await admin.GetFromJsonAsync<JsonElement[]>("/api/backups"), Is.Empty);
    }

    private static async Task<List<JsonNode>> ToolsAsync(HttpClient client) =>
        JsonNode.Parse(await client.GetStringAsync("/api/tools"))!.AsArray().Select(t => t!).ToList();

    /// <summary>The backup with its database entry renamed and/or changed, and a manifest that matches (so only the content is wrong).</summary>
    private static byte[] WithDatabase(byte[] zip, string entry, Func<byte[], byte[]> change, byte[] key) => BackupZips.Rewrite(zip, entries =>
    {
        var dump = change(entries["sanctum.pgdump"]);
        entries.Remove("sanctum.pgdump");
        entries[entry] = dump;
        var manifest = JsonNode.Parse(entries["manifest.json"])!;
        var file = manifest["files"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "sanctum.pgdump")!;
        file["name"] = entry;
        file["size"] = dump.Length;
        file["sha256"] = Convert.ToHexStringLower(SHA256.HashData(dump));
        entries["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        entries["manifest.sig"] = Sanctum.Api.Backups.BackupArchive.Signature(entries["manifest.json"], key);
    });

    [Test, Order(4)]
    public async Task ADumpWithATriggerOurMigrationsDoNotCreateIsRefused()
    {
        // A dump of the live database with a trigger added, then the trigger dropped again: only the dump has it.
        using (var db = _first.OpenDatabase())
            db.Execute("""
                CREATE FUNCTION promote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.role := 'admin'; RETURN NEW; END $$;
                CREATE TRIGGER promote BEFORE UPDATE OF last_login ON users FOR EACH ROW EXECUTE FUNCTION promote();
                """);
        var name = await BackupZips.CreateAsync(_admin);
        using (var db = _first.OpenDatabase()) db.Execute("DROP TRIGGER promote ON users; DROP FUNCTION promote();");

        var problem = await (await _admin.PostAsync($"/api/backups/{name}/restore", null)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.ToString(), Does.Contain("do not create").And.Contain("promote"));
        using var live = _first.OpenDatabase();
        Assert.That(live.ExecuteScalar<long>("SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'promote'"), Is.Zero);
    }
}
