using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Jobs;

namespace Sanctum.Api.Tests.Signals;

/// <summary>Tampering with audit rows through SQLite, and retention: each test on its own database, since both change the chain.</summary>
public class AuditTamperTests
{
    private SanctumApplication _app = null!;
    private HttpClient Admin = null!;
    private AuditLog Audit => _app.Services.GetRequiredService<AuditLog>();

    [SetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        Admin = await _app.CreateAdminClientAsync();
    }

    [TearDown]
    public void Stop() => _app.Dispose();

    private async Task RecordAsync(int count, string action = "test.event")
    {
        for (var i = 0; i < count; i++) Audit.Record(new AuditEvent(action, "thing", i.ToString(), new { index = i }));
        await Audit.FlushAsync(TimeSpan.FromSeconds(10));
    }

    private Task<JsonElement> VerifyAsync() => Admin.GetFromJsonAsync<JsonElement>("/api/audit/verify");

    private static void Tamper(System.Data.Common.DbConnection db, string sql, object? args = null)
    {
        // Whoever edits the database can drop the append-only trigger too; the chain still tells.
        db.Execute(db is SqliteConnection ? "DROP TRIGGER IF EXISTS audit_log_append_only" : "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log");
        db.Execute(sql, args);
    }

    [Test]
    public async Task AnEditedRowIsNamedByVerify()
    {
        await RecordAsync(10);
        using (var db = _app.OpenDatabase())
        {
            var target = db.ExecuteScalar<long>("SELECT id FROM audit_log WHERE action = 'test.event' AND target_id = '4'");
            Tamper(db, "UPDATE audit_log SET details = '{\"index\":40}' WHERE id = @target", new { target });
            var result = await VerifyAsync();
            Assert.That(result.GetProperty("ok").GetBoolean(), Is.False);
            Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(target));
        }
    }

    [Test]
    public async Task AnEditThatRecomputesTheRowsOwnHashIsCaughtByTheNextRow()
    {
        await RecordAsync(10);
        using var db = _app.OpenDatabase();
        var row = db.QuerySingle<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log WHERE target_id = '3' AND action = 'test.event'");
        var forged = row with { Actor = "someone-else" };
        Tamper(db, "UPDATE audit_log SET actor = @Actor, hash = @Hash WHERE id = @Id", forged with { Hash = _app.Services.GetRequiredService<AuditChain>().MacOf(forged) });

        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(row.Id + 1));
    }

    [Test]
    public async Task ADeletedRowIsNamedByTheRowAfterIt()
    {
        await RecordAsync(10);
        using var db = _app.OpenDatabase();
        var gone = db.ExecuteScalar<long>("SELECT id FROM audit_log WHERE action = 'test.event' AND target_id = '5'");
        Tamper(db, "DELETE FROM audit_log WHERE id = @gone", new { gone });
        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(gone + 1));
    }

    [Test]
    public async Task DeletingTheFirstRowsWithoutAnAnchorIsCaught()
    {
        await RecordAsync(5);
        using var db = _app.OpenDatabase();
        Tamper(db, "DELETE FROM audit_log WHERE id <= 2");
        var result = await VerifyAsync();
        Assert.That(result.GetProperty("first_bad_id").GetInt64(), Is.EqualTo(3));
    }

    [Test]
    public async Task RetentionPrunesOldRowsAndLeavesAnAnchorSoTheChainStillVerifies()
    {
        // Arrange old rows straight through the chain, as if written two years ago, then current ones.
        using (var db = _app.OpenDatabase())
        using (var tx = db.BeginTransaction())
        {
            var old = Timestamp.From(DateTimeOffset.UtcNow.AddYears(-2));
            await _app.Services.GetRequiredService<AuditChain>().AppendAsync(db, tx, Enumerable.Range(0, 30).Select(i => new AuditEntry { At = old, Action = "old.event", Outcome = "ok", TargetId = i.ToString() }));
            tx.Commit();
        }
        await RecordAsync(5, "new.event");
        var kind = _app.Services.GetServices<IJobKind>().Single(k => k.Kind == "audit-retention");

        var result = await kind.RunAsync(new JobRunContext(1, "prune", JsonDocument.Parse("""{"keep_days":30}""").RootElement, _app.Services), CancellationToken.None);

        Assert.That(result.Outcome, Is.EqualTo("ok"), result.Message);
        using var check = _app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'old.event'"), Is.Zero);
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'new.event'"), Is.EqualTo(5));
        var anchor = JsonDocument.Parse(check.ExecuteScalar<string>("SELECT details FROM audit_log WHERE action = 'audit.pruned'")!).RootElement;
        Assert.That(anchor.GetProperty("pruned").GetInt32(), Is.GreaterThanOrEqualTo(30));
        var verified = await VerifyAsync();
        Assert.That(verified.GetProperty("ok").GetBoolean(), Is.True, verified.ToString());

        var again = await kind.RunAsync(new JobRunContext(1, "prune", JsonDocument.Parse("{}").RootElement, _app.Services), CancellationToken.None);
        Assert.That(again.Outcome, Is.EqualTo("skipped"));

        // The anchor vouches for the first row only while it is intact.
        Tamper(check, TestEngine.IsPostgres
            ? "UPDATE audit_log SET details = jsonb_set(details::jsonb, '{through_hash}', '\"forged\"')::text WHERE action = 'audit.pruned'"
            : "UPDATE audit_log SET details = json_set(details, '$.through_hash', 'forged') WHERE action = 'audit.pruned'");
        Assert.That((await VerifyAsync()).GetProperty("ok").GetBoolean(), Is.False);
    }

}
