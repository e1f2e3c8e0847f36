using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;

namespace Sanctum.Api.Tests.Operations;

/// <summary>
/// Backups are not trusted blindly: the manifest is signed with a key the backup does not carry, a backup this
/// installation did not sign needs the admin's explicit acceptance, and whatever the signature, a schema object the
/// migrations do not create, a key file that is not a key and a symlink entry are refused, changing nothing.
/// </summary>
public class BackupTrustTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [SetUp]
    public async Task Start()
    {
        TestEngine.RequireSqlite("these craft SQLite files inside backups; PostgreSQL's: Postgres/BackupsOnPostgresTests");
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:Backups:MaxUploadBytes"] = "4000000" });
        _admin = await _app.CreateAdminClientAsync();
    }

    [TearDown]
    public void Stop() => _app?.Dispose();

    private string BackupsDirectory => Path.Combine(_app.DataDirectory, "backups");
    private byte[] Key => _app.Services.GetRequiredService<RecordKeys>().BackupKey;

    private async Task<byte[]> BackupAsync() => await _admin.GetByteArrayAsync($"/api/backups/{await BackupZips.CreateAsync(_admin)}");

    /// <summary>Uploading and restoring (planted in the folder) are both refused with <paramref name="expected"/>, and nothing changed.</summary>
    /// <remarks>The restore is asked with accept_foreign=true unless the signature is what is tested: whatever the admin accepts, these checks hold.</remarks>
    private async Task AssertRefusedAsync(byte[] zip, string expected, bool acceptForeign = true)
    {
        var problem = await (await _admin.PostAsync("/api/backups/upload", BackupZips.Body(zip))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(string.Join(" ", problem.GetProperty("errors").GetProperty("backup").EnumerateArray().Select(e => e.GetString())), Does.Contain(expected));
        const string planted = "sanctum-20200101-000000-manual.zip";
        await File.WriteAllBytesAsync(Path.Combine(BackupsDirectory, planted), zip);
        var restore = await (await _admin.PostAsync($"/api/backups/{planted}/restore?accept_foreign={(acceptForeign ? "true" : "false")}", null)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(restore.GetRawText(), Does.Contain(expected.Replace("'", "\\u0027")).Or.Contain(expected));
        Assert.That(Directory.GetFiles(BackupsDirectory, "*pre-restore*"), Is.Empty, "refused before anything changed");
        File.Delete(Path.Combine(BackupsDirectory, planted));
    }

    private byte[] WithDatabaseChange(byte[] zip, string sql) => BackupZips.Rewrite(zip, entries =>
    {
        var copy = Path.Combine(_app.DataDirectory, $"crafted-{Guid.NewGuid():N}.db");
        File.WriteAllBytes(copy, entries["sanctum.db"]);
        using (var db = new SqliteConnection($"Data Source={copy};Pooling=false")) db.Execute(sql);
        entries["sanctum.db"] = File.ReadAllBytes(copy);
        BackupZips.Reseal(entries, Key);
    });

    [Test]
    public async Task EveryBackupCarriesASignatureOfItsManifestAndVerifiesAsSigned()
    {
        var zip = await BackupAsync();
        var entries = BackupZips.Entries(zip);
        Assert.That(entries.Keys, Does.Contain("manifest.sig"));
        Assert.That(entries["manifest.sig"], Is.EqualTo(Sanctum.Api.Backups.BackupArchive.Signature(entries["manifest.json"], Key)));
        var name = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups"))[0].GetProperty("name").GetString();
        var verified = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{name}/verify");
        Assert.That((verified.GetProperty("ok").GetBoolean(), verified.GetProperty("origin").GetString()), Is.EqualTo((true, "signed")));
    }

    [Test]
    public async Task AnUnsignedBackupIsRefusedUnlessTheAdminAcceptsIt()
    {
        var unsigned = BackupZips.Rewrite(await BackupAsync(), e => e.Remove("manifest.sig"));
        await AssertRefusedAsync(unsigned, "not signed", acceptForeign: false);

        var accepted = await _admin.PostAsync("/api/backups/upload?accept_foreign=true", BackupZips.Body(unsigned));
        Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Created), await accepted.Content.ReadAsStringAsync());
        var name = (await accepted.JsonAsync()).GetProperty("name").GetString();
        var verified = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{name}/verify");
        Assert.That(verified.GetProperty("origin").GetString(), Is.EqualTo("signed"), "an accepted backup is signed afresh by this installation");
    }

    [Test]
    public async Task ABackupFromAnotherInstallationIsForeignAndRestoresOnlyWhenAccepted()
    {
        byte[] foreign;
        using (var other = new SanctumApplication())
        {
            var otherAdmin = await other.CreateAdminClientAsync();
            Assert.That((await otherAdmin.PostAsJsonAsync("/api/users", new { username = "zoe", email = "zoe@example.test", password = "quiet-meadow-12" })).IsSuccessStatusCode);
            foreign = await otherAdmin.GetByteArrayAsync($"/api/backups/{await BackupZips.CreateAsync(otherAdmin)}");
        }
        // Signed, but with the other installation's key: its record key is not in the backup.
        Assert.That(BackupZips.Entries(foreign).Keys, Does.Not.Contain("record.key"));
        await AssertRefusedAsync(foreign, "not signed by this installation", acceptForeign: false);
        var tampered = BackupZips.Rewrite(await BackupAsync(), e => BackupZips.Reseal(e, new byte[32]));
        await AssertRefusedAsync(tampered, "not signed by this installation", acceptForeign: false);

        const string planted = "sanctum-20200101-000000-manual.zip";
        await File.WriteAllBytesAsync(Path.Combine(BackupsDirectory, planted), foreign);
        var verify = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{planted}/verify");
        Assert.That((verify.GetProperty("ok").GetBoolean(), verify.GetProperty("origin").GetString()), Is.EqualTo((false, "foreign")));
        await (await _admin.PostAsync($"/api/backups/{planted}/restore", null)).AssertProblemAsync(HttpStatusCode.BadRequest);
        var restored = await _admin.PostAsync($"/api/backups/{planted}/restore?accept_foreign=true", null);
        Assert.That(restored.StatusCode, Is.EqualTo(HttpStatusCode.OK), await restored.Content.ReadAsStringAsync());
        Assert.That((await restored.JsonAsync()).GetProperty("origin").GetString(), Is.EqualTo("foreign"));
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "zoe", "quiet-meadow-12"), Is.Not.Null);
    }

    private static IEnumerable<TestCaseData> SchemaObjects()
    {
        yield return new TestCaseData("""
            CREATE TRIGGER promote AFTER UPDATE OF last_login ON users BEGIN UPDATE users SET role = 'admin' WHERE id = new.id; END;
            """, "trigger 'promote'").SetName("A trigger that makes a user admin at sign-in");
        yield return new TestCaseData("CREATE VIEW everyone AS SELECT * FROM users", "view 'everyone'").SetName("A view");
        yield return new TestCaseData("CREATE TABLE stash (x TEXT)", "table 'stash'").SetName("A table");
        yield return new TestCaseData("CREATE INDEX ix_sneaky ON users (email)", "index 'ix_sneaky'").SetName("An index");
        yield return new TestCaseData("""
            DROP TRIGGER audit_log_append_only;
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log BEGIN SELECT 1; END;
            """, "trigger 'audit_log_append_only' differs").SetName("A trigger of ours, redefined");
    }

    [TestCaseSource(nameof(SchemaObjects))]
    public async Task ASchemaObjectOurMigrationsDoNotCreateIsRefused(string sql, string expected)
    {
        var crafted = WithDatabaseChange(await BackupAsync(), sql);
        await AssertRefusedAsync(crafted, expected);
        using var live = _app.OpenDatabase();
        Assert.That(live.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('promote', 'everyone', 'stash', 'ix_sneaky')"), Is.Zero);
    }

    [Test]
    public async Task AJunkKeyFileIsRefused()
    {
        var zip = await BackupAsync();
        var junk = BackupZips.Rewrite(zip, e =>
        {
            e[$"keys/key-{Guid.NewGuid():D}.xml"] = "<key>this is not a key"u8.ToArray();
            BackupZips.Reseal(e, Key);
        });
        await AssertRefusedAsync(junk, "not well-formed XML");

        var wrongRoot = BackupZips.Rewrite(zip, e =>
        {
            e[$"keys/key-{Guid.NewGuid():D}.xml"] = "<?xml version=\"1.0\"?><notakey/>"u8.ToArray();
            BackupZips.Reseal(e, Key);
        });
        await AssertRefusedAsync(wrongRoot, "not a Data Protection key");

        var entity = BackupZips.Rewrite(zip, e =>
        {
            e[$"keys/key-{Guid.NewGuid():D}.xml"] = "<!DOCTYPE key [<!ENTITY x \"y\">]><key>&x;</key>"u8.ToArray();
            BackupZips.Reseal(e, Key);
        });
        await AssertRefusedAsync(entity, "not well-formed XML");
        Assert.That(Directory.GetFiles(Path.Combine(_app.DataDirectory, "keys")).Select(File.ReadAllText), Has.None.Contains("not a key"));
    }

    [Test]
    public async Task ASymlinkEntryIsRefused()
    {
        var entries = BackupZips.Entries(await BackupAsync());
        var key = entries.Keys.First(k => k.StartsWith("keys/", StringComparison.Ordinal));
        entries[key] = System.Text.Encoding.UTF8.GetBytes("/etc/passwd");
        BackupZips.Reseal(entries, Key);
        var symlink = BackupZips.Build(entries, new Dictionary<string, int> { [key] = 0xA1FF });
        await AssertRefusedAsync(symlink, "symbolic link");
    }
}
