using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;

namespace Sanctum.Api.Tests.Signals;

/// <summary>
/// The audit chain is keyed: whoever can write the database but does not hold the key (Sanctum:KeyRingKey, or the
/// record.key beside the database that the key ring protects) cannot rewrite it, forge an anchor, or cut its end
/// without an operator's checkpoint telling.
/// </summary>
public class AuditKeyedChainTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _admin = await _app.CreateAdminClientAsync();
        var audit = _app.Services.GetRequiredService<AuditLog>();
        for (var i = 0; i < 10; i++) audit.Record(new AuditEvent("test.event", "thing", i.ToString(), new { index = i }));
        await audit.FlushAsync(TimeSpan.FromSeconds(10));
    }

    [TearDown]
    public void Stop() => _app.Dispose();

    private async Task<JsonElement> VerifyAsync(string? checkpoint = null) =>
        await _admin.GetFromJsonAsync<JsonElement>("/api/audit/verify" + (checkpoint is null ? "" : "?checkpoint=" + checkpoint));

    private static void DropAppendOnly(System.Data.Common.DbConnection db) =>
        db.Execute(TestEngine.IsPostgres ? "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log" : "DROP TRIGGER IF EXISTS audit_log_append_only");

    private static string Sha256(AuditEntry row) => Convert.ToHexStringLower(SHA256.HashData(AuditChain.Canonical(row)));

    private static void Insert(System.Data.Common.DbConnection db, AuditEntry row) => db.Execute($"""
        INSERT INTO audit_log ({AuditEntry.Columns})
        VALUES (@Id, @At, @Actor, @ActorId, @Address, @Action, @TargetType, @TargetId, @Outcome, @Details, @PrevHash, @Hash)
        """, row);

    [Test]
    public async Task DeletingRowsAndReHashingTheRestWithPlainSha256IsDetected()
    {
        Assert.That((await VerifyAsync()).GetProperty("ok").GetBoolean(), Is.True);
        using var db = _app.OpenDatabase();
        var rows = db.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id").ToList();
        var kept = rows.Where(r => r.TargetId is not ("3" or "4")).ToList();
        DropAppendOnly(db);
        db.Execute("DELETE FROM audit_log");
        // The rewrite an attacker with the database but not the key can do: renumber and chain with SHA-256.
        var previous = AuditChain.Genesis;
        for (var i = 0; i < kept.Count; i++)
        {
            var row = kept[i] with { Id = i + 1, PrevHash = previous };
            row = row with { Hash = Sha256(row) };
            Insert(db, row);
            previous = row.Hash;
        }

        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False, result.ToString());
        Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(1));
    }

    [Test]
    public async Task AForgedPruningAnchorIsRefused()
    {
        using var db = _app.OpenDatabase();
        var rows = db.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id").ToList();
        var cut = rows[4];
        DropAppendOnly(db);
        db.Execute("DELETE FROM audit_log WHERE id <= @Id", cut);
        var last = rows[^1];
        var anchor = new AuditEntry
        {
            Id = last.Id + 1, At = last.At, Action = AuditChain.PrunedAction, TargetType = "audit_log", Outcome = "ok", PrevHash = last.Hash,
            Details = JsonSerializer.Serialize(new { through_id = cut.Id, through_hash = cut.Hash, pruned = cut.Id, keep_days = 1 }),
        };
        Insert(db, anchor with { Hash = Sha256(anchor) });

        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False, result.ToString());
        Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(anchor.Id), "the anchor's MAC is not one the key makes");
    }

    [Test]
    public async Task ACheckpointKeptOutsideCatchesRowsDeletedFromTheNewestEnd()
    {
        var checkpoint = await _admin.GetFromJsonAsync<JsonElement>("/api/audit/checkpoint");
        var id = checkpoint.GetProperty("id").GetInt64();
        var mac = checkpoint.GetProperty("mac").GetString()!;
        Assert.That(checkpoint.GetProperty("checkpoint").GetString(), Is.EqualTo($"{id}:{mac}"));
        using (var db = _app.OpenDatabase())
        {
            Assert.That(db.ExecuteScalar<long>("SELECT MAX(id) FROM audit_log"), Is.EqualTo(id));
            Assert.That(mac, Is.Not.EqualTo(Sha256(db.QuerySingle<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log WHERE id = @id", new { id }))),
                "the MAC is keyed, not a plain hash");
        }

        var matched = await VerifyAsync($"{id}:{mac}");
        Assert.That((matched.GetProperty("ok").GetBoolean(), matched.GetProperty("checkpoint").GetString()), Is.EqualTo((true, "matched")));

        using (var db = _app.OpenDatabase()) db.Execute("DELETE FROM audit_log WHERE id >= @from", new { from = id - 2 });
        var plain = await VerifyAsync();
        Assert.That(plain.GetProperty("ok").GetBoolean(), Is.True, "a chain cut at its end is still a valid chain");
        var cut = await VerifyAsync($"{id}:{mac}");
        Assert.That(cut.GetProperty("ok").GetBoolean(), Is.False, cut.ToString());
        Assert.That(cut.GetProperty("checkpoint").GetString(), Is.AnyOf("missing", "different"), "gone, or its id reused by a later row");

        var other = await VerifyAsync($"1:{new string('0', 64)}");
        Assert.That((other.GetProperty("ok").GetBoolean(), other.GetProperty("checkpoint").GetString()), Is.EqualTo((false, "different")));
        await (await _admin.GetAsync("/api/audit/verify?checkpoint=12:nothex")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Test]
    public void TheKeyIsNeitherInTheDatabaseNorInTheDataDirectoryInClear()
    {
        TestEngine.RequireSqlite("without Sanctum:KeyRingKey the root key is a file beside the SQLite database");
        var file = Path.Combine(_app.DataDirectory, RecordKeys.FileName);
        Assert.That(File.Exists(file), Is.True);
        var stored = File.ReadAllBytes(file);
        var keys = _app.Services.GetRequiredService<RecordKeys>();
        Assert.That(stored.Length, Is.GreaterThan(32), "protected by the key ring, not the raw 32 bytes");
        Assert.That(Convert.ToHexStringLower(stored), Does.Not.Contain(Convert.ToHexStringLower(keys.AuditKey)));
        Assert.That(File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead), Is.EqualTo(UnixFileMode.None));
        Assert.That(keys.AuditKey, Is.Not.EqualTo(keys.BackupKey));
    }

    [Test]
    public async Task ASignInIsRecordedWithTheUserAsTheActorNotTheSystem()
    {
        await _app.CreateClientForRoleAsync("viewer", "vera");
        await _app.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        var page = await _admin.GetFromJsonAsync<JsonElement>("/api/audit?action=auth.login.succeeded&limit=1");
        Assert.That(page.GetProperty("items")[0].GetProperty("actor").GetString(), Is.EqualTo("vera"));
    }
}
