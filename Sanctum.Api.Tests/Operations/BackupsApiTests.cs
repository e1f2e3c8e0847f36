using System.Security.Cryptography;
using System.Text;

namespace Sanctum.Api.Tests.Operations;

public class BackupsApiTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [SetUp]
    public async Task Start()
    {
        TestEngine.RequireSqlite("these read and tamper with the SQLite file in the backup; PostgreSQL's: Postgres/BackupsOnPostgresTests");
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:Backups:MaxUploadBytes"] = "2000000" });
        _admin = await _app.CreateAdminClientAsync();
    }

    [TearDown]
    public void Stop() => _app?.Dispose();

    private string BackupsDirectory => Path.Combine(_app.DataDirectory, "backups");

    [Test]
    public async Task ABackupIsOneZipWithTheDatabaseTheKeyRingAndAManifestOfChecksums()
    {
        var name = await BackupZips.CreateAsync(_admin);
        Assert.That(name, Does.Match(@"^sanctum-\d{8}-\d{6}-manual\.zip$"));

        var listed = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).EnumerateArray().Single();
        Assert.That(listed.GetProperty("name").GetString(), Is.EqualTo(name));
        Assert.That(listed.GetProperty("kind").GetString(), Is.EqualTo("manual"));
        Assert.That(listed.GetProperty("schema_version").GetInt64(), Is.EqualTo(4));
        Assert.That(listed.GetProperty("size").GetInt64(), Is.EqualTo(new FileInfo(Path.Combine(BackupsDirectory, name)).Length));

        var download = await _admin.GetAsync($"/api/backups/{name}");
        Assert.That(download.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/zip"));
        Assert.That(download.Content.Headers.ContentDisposition?.FileName, Is.EqualTo(name));
        var zip = await download.Content.ReadAsByteArrayAsync();
        var entries = BackupZips.Entries(zip);
        Assert.That(entries.Keys, Does.Contain("sanctum.db").And.Contain("manifest.json"));
        Assert.That(entries.Keys.Count(k => k.StartsWith("keys/", StringComparison.Ordinal)), Is.GreaterThan(0), "the key ring is in the backup");

        var manifest = BackupZips.Manifest(zip);
        Assert.That(manifest.GetProperty("kind").GetString(), Is.EqualTo("manual"));
        Assert.That(manifest.GetProperty("app_version").GetString(), Is.Not.Empty);
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
        {
            var bytes = entries[file.GetProperty("name").GetString()!];
            Assert.That(file.GetProperty("size").GetInt64(), Is.EqualTo(bytes.Length));
            Assert.That(file.GetProperty("sha256").GetString(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(bytes))));
        }
        // The copy is a database in its own right, not torn WAL files: it opens and holds the admin.
        var copy = Path.Combine(_app.DataDirectory, "copy.db");
        await File.WriteAllBytesAsync(copy, entries["sanctum.db"]);
        using (var db = new SqliteConnection($"Data Source={copy};Pooling=false"))
            Assert.That(db.ExecuteScalar<string>("SELECT username FROM users WHERE id = 1"), Is.EqualTo("admin"));

        Assert.That((await _admin.DeleteAsync($"/api/backups/{name}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(File.Exists(Path.Combine(BackupsDirectory, name)), Is.False);
        await (await _admin.GetAsync($"/api/backups/{name}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [TestCase("sanctum.db")]
    [TestCase("..%2Fsanctum.db")]
    [TestCase("..%2F..%2Fetc%2Fpasswd")]
    [TestCase("%2Ftmp%2Fx.zip")]
    [TestCase("sanctum-20260101-000000-manual.zip")]
    [TestCase("sanctum-20260101-000000-manual.zip.bak")]
    public async Task ANameTheServerDidNotGiveIsNotFound(string name)
    {
        await BackupZips.CreateAsync(_admin);
        File.WriteAllText(Path.Combine(BackupsDirectory, "sanctum-20260101-000000-manual.zip.bak"), "not a backup");
        foreach (var call in new[] { ("GET", $"/api/backups/{name}"), ("DELETE", $"/api/backups/{name}"), ("GET", $"/api/backups/{name}/verify"), ("POST", $"/api/backups/{name}/restore") })
        {
            var response = await _admin.SendAsync(new HttpRequestMessage(new HttpMethod(call.Item1), call.Item2));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), $"{call.Item1} {call.Item2}");
        }
        Assert.That(File.Exists(_app.DatabasePath), Is.True);
    }

    [Test]
    public async Task AnUploadedBackupIsCheckedAndStoredUnderANewName()
    {
        var name = await BackupZips.CreateAsync(_admin);
        var zip = await _admin.GetByteArrayAsync($"/api/backups/{name}");
        File.Delete(Path.Combine(BackupsDirectory, name));

        var response = await _admin.PostAsync("/api/backups/upload", BackupZips.Body(zip));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var stored = await response.JsonAsync();
        Assert.That(stored.GetProperty("name").GetString(), Does.Match(@"^sanctum-\d{8}-\d{6}-manual(-\d+)?\.zip$"));
        Assert.That(await File.ReadAllBytesAsync(Path.Combine(BackupsDirectory, stored.GetProperty("name").GetString()!)), Is.EqualTo(zip));
    }

    private static IEnumerable<TestCaseData> Tampered()
    {
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => zip[..(zip.Length / 2)])).SetName("A truncated backup is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => BackupZips.Rewrite(zip, e => e["sanctum.db"][20000] ^= 0x55)))
            .SetName("A backup whose database was changed is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => BackupZips.Rewrite(zip, e => e.Remove("manifest.json"))))
            .SetName("A backup without a manifest is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => BackupZips.Rewrite(zip, e => e["../escape.xml"] = [1, 2, 3])))
            .SetName("A backup with an entry outside its folder is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => BackupZips.Rewrite(zip, e => e["keys/extra.xml"] = Encoding.UTF8.GetBytes("<key/>"))))
            .SetName("A backup with a file the manifest does not list is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(zip => BackupZips.Rewrite(zip, e =>
                e["manifest.json"] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(e["manifest.json"]).Replace("\"manual\"", "\"../../x\"")))))
            .SetName("A backup with an unknown kind is refused");
        yield return new TestCaseData((Func<byte[], byte[]>)(_ => Encoding.UTF8.GetBytes("PK not really a zip")))
            .SetName("A file that is no zip is refused");
    }

    [TestCaseSource(nameof(Tampered))]
    public async Task ATamperedUploadIsRefusedAndChangesNothing(Func<byte[], byte[]> tamper)
    {
        var name = await BackupZips.CreateAsync(_admin);
        var zip = await _admin.GetByteArrayAsync($"/api/backups/{name}");
        var before = Directory.GetFileSystemEntries(BackupsDirectory).Order().ToList();

        var problem = await (await _admin.PostAsync("/api/backups/upload", BackupZips.Body(tamper(zip)))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("backup").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(Directory.GetFileSystemEntries(BackupsDirectory).Order().ToList(), Is.EqualTo(before), "nothing was stored or left behind");
    }

    [Test]
    public async Task AnUploadOverTheLimitIsRefusedBeforeItIsStored()
    {
        var response = await _admin.PostAsync("/api/backups/upload", BackupZips.Body(new byte[2_000_001]));
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.That(Directory.Exists(BackupsDirectory) ? Directory.GetFileSystemEntries(BackupsDirectory) : [], Is.Empty);
    }

    [Test]
    public async Task AZipBombIsRefusedByItsDeclaredSizeBeforeAnythingIsExtracted()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:Backups:MaxUncompressedBytes"] = "100000" });
        var admin = await app.CreateAdminClientAsync();
        var zip = BackupZips.Build([new("sanctum.db", new byte[1_000_000]), new("manifest.json", "{}"u8.ToArray())]);
        Assert.That(zip.Length, Is.LessThan(100_000), "compresses well");
        var problem = await (await admin.PostAsync("/api/backups/upload", BackupZips.Body(zip))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("backup")[0].GetString(), Does.Contain("uncompressed"));
    }

    [Test]
    public async Task VerifyReChecksAStoredBackupAndFindsTampering()
    {
        var name = await BackupZips.CreateAsync(_admin);
        var verified = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{name}/verify");
        Assert.That(verified.GetProperty("ok").GetBoolean(), Is.True, verified.ToString());
        Assert.That(verified.GetProperty("schema_version").GetInt64(), Is.EqualTo(4));

        var path = Path.Combine(BackupsDirectory, name);
        await File.WriteAllBytesAsync(path, BackupZips.Rewrite(await File.ReadAllBytesAsync(path), e => e["sanctum.db"][5000] ^= 1));
        verified = await _admin.GetFromJsonAsync<JsonElement>($"/api/backups/{name}/verify");
        Assert.That(verified.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(verified.GetProperty("problems")[0].GetString(), Does.Contain("SHA-256"));
    }

    [Test]
    public async Task ARestoreBringsBackADeletedUserReportsTheChangeAndKeepsAPreRestoreBackup()
    {
        var created = await _admin.PostAsJsonAsync("/api/users", new { username = "carol", email = "carol@example.test", password = "crimson-lantern-1" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var name = await BackupZips.CreateAsync(_admin);
        using (var db = _app.OpenDatabase()) db.Execute("DELETE FROM users WHERE username = 'carol'");
        // Fill the tools cache with the state after the backup, so a stale cache would show.
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE tools SET name = 'Renamed after the backup' WHERE id = 'broca'");
        Assert.That((await _admin.GetStringAsync("/api/tools")), Does.Contain("Renamed after the backup"));

        var response = await _admin.PostAsync($"/api/backups/{name}/restore", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var report = await response.JsonAsync();
        var users = report.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("table").GetString() == "users");
        Assert.That((users.GetProperty("before").GetInt64(), users.GetProperty("after").GetInt64()), Is.EqualTo((1L, 2L)));
        Assert.That(report.GetProperty("session_kept").GetBoolean(), Is.False, "a restore ends every session");
        _admin = await _app.CreateAdminClientAsync();

        var found = await _admin.GetFromJsonAsync<JsonElement>("/api/users?search=carol");
        Assert.That(found.GetProperty("total").GetInt64(), Is.EqualTo(1), "the user is back, and the search index with it");
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "carol", "crimson-lantern-1"), Is.Not.Null);
        Assert.That(await _admin.GetStringAsync("/api/tools"), Does.Not.Contain("Renamed after the backup"), "the tools cache serves the restored data");

        var preRestore = report.GetProperty("pre_restore_backup").GetString()!;
        Assert.That(preRestore, Does.Contain("-pre-restore"));
        var kinds = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).EnumerateArray().Select(b => b.GetProperty("kind").GetString());
        Assert.That(kinds, Is.EquivalentTo(new[] { "manual", "pre-restore" }));
        // The pre-restore backup holds the data as it was just before: without carol.
        var entries = BackupZips.Entries(await _admin.GetByteArrayAsync($"/api/backups/{preRestore}"));
        var copy = Path.Combine(_app.DataDirectory, "pre.db");
        await File.WriteAllBytesAsync(copy, entries["sanctum.db"]);
        using (var db = new SqliteConnection($"Data Source={copy};Pooling=false"))
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE username = 'carol'"), Is.Zero);
        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("PRAGMA journal_mode"), Is.EqualTo("wal"), "the live database stays in WAL mode");
    }

    [Test]
    public async Task AnAdminWhoseSessionIsNotInTheRestoredDataSignsInAgain()
    {
        using (var db = _app.OpenDatabase()) db.Execute("DELETE FROM user_sessions");
        var name = await BackupZipsWithoutSessionsAsync();
        var admin = await _app.CreateAdminClientAsync();
        var report = await (await admin.PostAsync($"/api/backups/{name}/restore", null)).JsonAsync();
        Assert.That(report.GetProperty("session_kept").GetBoolean(), Is.False);
        Assert.That((await admin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    private async Task<string> BackupZipsWithoutSessionsAsync()
    {
        // _admin's own session was deleted above; this backup is taken while no session exists.
        var backup = _app.Services.GetService(typeof(Sanctum.Api.Backups.BackupStore)) as Sanctum.Api.Backups.BackupStore;
        return await Task.FromResult(backup!.Create("manual").Name);
    }

    [Test]
    public async Task ABackupFromANewerSchemaIsRefusedAndChangesNothing()
    {
        var name = await BackupZips.CreateAsync(_admin);
        var zip = await _admin.GetByteArrayAsync($"/api/backups/{name}");
        var newer = BackupZips.Rewrite(zip, entries =>
        {
            var copy = Path.Combine(_app.DataDirectory, "newer.db");
            File.WriteAllBytes(copy, entries["sanctum.db"]);
            using (var db = new SqliteConnection($"Data Source={copy};Pooling=false"))
                db.Execute("INSERT INTO VersionInfo (Version, AppliedOn, Description) VALUES (99, '2030-01-01', 'from the future')");
            var bytes = File.ReadAllBytes(copy);
            entries["sanctum.db"] = bytes;
            var manifest = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(entries["manifest.json"])!;
            var files = manifest["files"].EnumerateArray().Select(f => f.GetProperty("name").GetString() == "sanctum.db"
                ? (object)new { name = "sanctum.db", size = bytes.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) }
                : f).ToList();
            entries["manifest.json"] = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["format"] = 1, ["created_at"] = manifest["created_at"], ["app_version"] = "future", ["schema_version"] = 99, ["kind"] = "manual", ["files"] = files,
            });
            // Signed with this installation's key: only the schema version is left to refuse it.
            entries["manifest.sig"] = Sanctum.Api.Backups.BackupArchive.Signature(entries["manifest.json"],
                ((Sanctum.Api.Audit.RecordKeys)_app.Services.GetService(typeof(Sanctum.Api.Audit.RecordKeys))!).BackupKey);
        });
        var uploaded = await _admin.PostAsync("/api/backups/upload", BackupZips.Body(newer));
        var problem = await uploaded.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").GetProperty("backup")[0].GetString(), Does.Contain("newer than this build"));

        // Placed straight in the folder, a restore refuses it too, before any change (no pre-restore backup).
        var planted = Path.Combine(BackupsDirectory, "sanctum-20300101-000000-manual.zip");
        await File.WriteAllBytesAsync(planted, newer);
        await (await _admin.PostAsync("/api/backups/sanctum-20300101-000000-manual.zip/restore", null)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(Directory.GetFiles(BackupsDirectory, "*pre-restore*"), Is.Empty);
        using var live = _app.OpenDatabase();
        Assert.That(live.ExecuteScalar<long>("SELECT MAX(Version) FROM VersionInfo"), Is.EqualTo(4));
    }

    [Test]
    public async Task RequestsDuringARestoreWaitForItAndThenSeeTheRestoredData()
    {
        // Reads with an access token made before the backup (a restore ends sessions, not tokens that still exist).
        var token = (await (await _admin.PostAsJsonAsync("/api/auth/tokens", new { name = "reader", scope = "read", expires_in_days = 1 })).JsonAsync()).GetProperty("token").GetString();
        var reader = _app.CreateClient();
        reader.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var name = await BackupZips.CreateAsync(_admin);
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE tools SET name = 'After the backup' WHERE id = 'broca'");
        var gate = (Sanctum.Api.Data.MaintenanceGate)_app.Services.GetService(typeof(Sanctum.Api.Data.MaintenanceGate))!;
        using var release = new ManualResetEventSlim();
        var blocked = Task.Run(() => gate.RunExclusiveAsync(() => { release.Wait(); return Task.FromResult(0); }));
        while (!gate.IsClosed) await Task.Delay(10);

        var during = _admin.GetStringAsync("/api/tools/broca");
        while (gate.Waiting == 0 && !during.IsCompleted) await Task.Delay(10);
        Assert.That(during.IsCompleted, Is.False, "a request during maintenance waits");
        Assert.That(gate.Waiting, Is.EqualTo(1), "held at the gate");
        Assert.That((await _admin.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "liveness still answers");
        release.Set();
        await blocked;
        Assert.That(await during, Does.Contain("After the backup"));

        var restore = _admin.PostAsync($"/api/backups/{name}/restore", null);
        var reads = Enumerable.Range(0, 20).Select(_ => reader.GetStringAsync("/api/tools/broca")).ToList();
        Assert.That((await restore).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        foreach (var read in reads) Assert.That(await read, Does.Contain("\"name\":").And.Not.Contain("error"), "every read got a whole answer");
        Assert.That(await reader.GetStringAsync("/api/tools/broca"), Does.Not.Contain("After the backup"));
    }

    [Test]
    public async Task OnlyAdminsReachBackups()
    {
        var name = await BackupZips.CreateAsync(_admin);
        foreach (var role in new[] { "user", "viewer" })
        {
            var client = await _app.CreateClientForRoleAsync(role);
            foreach (var (method, url) in new[] { ("GET", "/api/backups"), ("POST", "/api/backups"), ("GET", $"/api/backups/{name}"),
                         ("DELETE", $"/api/backups/{name}"), ("GET", $"/api/backups/{name}/verify"), ("POST", $"/api/backups/{name}/restore") })
                Assert.That((await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), $"{role} {method} {url}");
        }
        Assert.That((await _app.CreateClient().GetAsync("/api/backups")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
