using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// What a write costs: the durability SQLite is asked for (stated, not left to the library's default), the history
/// lookups each setting write makes going through the unique index, and the audit row committed with the change.
/// </summary>
public class WriteCostTests
{
    [TestCase(null, 1L)]      // NORMAL: under WAL every commit survives a crash of the process
    [TestCase("Full", 2L)]    // FULL: every commit flushed to disk before it is acknowledged
    public async Task EveryConnectionRunsTheConfiguredSynchronousMode(string? durability, long expected)
    {
        TestEngine.RequireSqlite("PRAGMA synchronous is SQLite's");
        var settings = new Dictionary<string, string?>();
        if (durability is not null) settings["Sanctum:Durability"] = durability;
        await using var app = new SanctumApplication(settings);
        var database = app.Services.GetRequiredService<Database>();
        for (var open = 0; open < 3; open++)
        {
            using var db = database.Open();
            Assert.That(db.ExecuteScalar<long>("PRAGMA synchronous"), Is.EqualTo(expected), $"open {open}");
            Assert.That(db.ExecuteScalar<string>("PRAGMA journal_mode"), Is.EqualTo("wal"));
        }
    }

    public static IEnumerable<TestCaseData> HistoryLookups()
    {
        yield return new TestCaseData(SettingsCore.NextVersionSql).SetName("{m}(next version)");
        yield return new TestCaseData(SettingsCore.HistorySelect + " ORDER BY version DESC").SetName("{m}(history)");
        yield return new TestCaseData(SettingStore.SystemConfig.FindSql).SetName("{m}(system setting with its version)");
        yield return new TestCaseData(SettingStore.Configurations.FindSql).SetName("{m}(scoped setting with its version)");
    }

    [TestCaseSource(nameof(HistoryLookups))]
    public async Task HistoryLookupsSearchTheUniqueIndexByEveryPartOfTheSettingsAddress(string sql)
    {
        await using var app = new SanctumApplication();
        _ = app.Services; // migrated
        using var db = app.OpenDatabaseWithoutStarting(); // its own session: the SET below stays in it
        var args = new { store = "configurations", scope = "tool", scopeId = "broca", key = "k" };
        string plan;
        if (TestEngine.IsPostgres)
        {
            // PostgreSQL plans by statistics: give the key a long history (and the planner its numbers), as in production.
            db.Execute("INSERT INTO setting_history (store, scope, scope_id, key, version, action, type, is_encrypted, new_value, changed_by) "
                + "SELECT 'configurations', 'tool', 'broca', 'k', i, 'set', 'string', FALSE, 'v' || i, 'test' FROM generate_series(1, 3000) AS i");
            db.Execute("ANALYZE setting_history");
            db.Execute("SET enable_seqscan = off");
            plan = string.Join("\n", db.Query<string>("EXPLAIN " + sql, args));
        }
        else
        {
            plan = string.Join("\n", db.Query<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql, args).Select(r => r.Detail));
        }
        TestContext.Out.WriteLine(plan);
        var history = plan.Split('\n').Where(l => l.Contains("setting_history") || l.Contains("ux_setting_history") || l.Contains("Index Cond")).ToList();
        Assert.That(plan, Does.Contain("ux_setting_history_version"), "the history is searched through its unique index");
        Assert.That(plan, Does.Not.Contain("SCAN setting_history").And.Not.Contain("SCAN h").And.Not.Contain("Seq Scan on setting_history"));
        if (TestEngine.IsPostgres)
            Assert.That(plan, Does.Match(@"Index Cond: \(.*key = "), "the key is part of the index search, not a filter over its versions");
        else
            Assert.That(plan, Does.Match(@"ux_setting_history_version \(store=\? AND scope=\? AND <expr>=\? AND key=\?"), "the search uses the whole address");
    }

    [Test]
    public async Task ASettingWriteAndItsAuditRowCommitTogether()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        await app.Services.GetRequiredService<Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = app.OpenDatabase();
        // On SQLite the row is in the chain; on PostgreSQL in the chain or still in audit_unsealed (sealed just after
        // the commit): one statement reads both, so a row moved between them in the meantime counts once.
        const string Audited = """
            SELECT (SELECT COUNT(*) FROM audit_log WHERE action = 'setting.changed' AND target_id = 'session_timeout')
                 + (SELECT COUNT(*) FROM audit_unsealed WHERE action = 'setting.changed' AND target_id = 'session_timeout')
            """;
        var before = db.ExecuteScalar<long>(Audited);
        // Looked at right after the response, with no flush: a queued row may not be written yet, a row of the same
        // transaction is there.
        var put = await admin.PutAsJsonAsync("/api/config/session_timeout", new { value = "1234" });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());
        Assert.That(db.ExecuteScalar<long>(Audited), Is.EqualTo(before + 1), "the audit row is committed with the write, not queued behind it");
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM setting_history WHERE store = 'system_config' AND key = 'session_timeout'"), Is.EqualTo(1));
    }

    /// <summary>
    /// On PostgreSQL a setting write commits without waiting for the disk, so the next writer of the key need not wait
    /// through the flush (Data/DurableCommit.cs), and is acknowledged only after a later commit of its own has been
    /// flushed: by the time the response arrives, the write's commit record is in the flushed WAL. (Without that second
    /// commit, the WAL writer flushes an asynchronous commit up to 600 ms later.)
    /// </summary>
    [Test]
    public async Task APostgresSettingWriteIsOnDiskWhenItIsAcknowledged()
    {
        TestEngine.RequirePostgres("the WAL is PostgreSQL's");
        // The test server commits asynchronously everywhere (PostgresTestServer); an operator's keeps the default, on,
        // and so do this host's sessions.
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(PostgresTestServer.Instance.CreateDatabase(out _)) { Options = "-c synchronous_commit=on" };
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sanctum"] = connection.ConnectionString, ["Sanctum:KeyRingKey"] = PostgresTestServer.KeyRingKey,
        });
        var admin = await app.CreateAdminClientAsync();
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SHOW synchronous_commit"), Is.EqualTo("on"));
        db.Execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
        for (var write = 0; write < 5; write++)
        {
            var from = db.ExecuteScalar<string>("SELECT pg_current_wal_insert_lsn()::text");
            var put = await admin.PutAsJsonAsync("/api/config/session_timeout", new { value = $"12{write}" });
            Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());
            // pg_get_wal_records_info reads only WAL flushed already (its end is the flush position).
            var flushed = db.ExecuteScalar<long>("""
                SELECT COUNT(*) FROM pg_get_wal_records_info(@from::pg_lsn, pg_current_wal_flush_lsn())
                WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT'
                  AND xid = (SELECT xmin FROM system_config WHERE config_key = 'session_timeout')
                """, new { from });
            Assert.That(flushed, Is.EqualTo(1), $"write {write}: its commit was not flushed when the write was acknowledged");
        }
    }

    /// <summary>
    /// Writers of one setting at once, each handing the key on at its commit (before the flush on PostgreSQL): every
    /// acknowledged write has its own version, in order, with one audit row each, and the value is the newest version's.
    /// </summary>
    [Test]
    public async Task ConcurrentWritesOfOneSettingEachGetTheirOwnVersionAndAuditRow()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        const int Writers = 16, EachWrites = 5;
        var statuses = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < EachWrites; i++)
                codes.Add((await admin.PutAsJsonAsync("/api/config/bench_one_key", new { value = $"w{w}-{i}", type = "string" })).StatusCode);
            return codes;
        }));
        var all = statuses.SelectMany(c => c).ToList();
        Assert.That(all.Count(c => c == HttpStatusCode.Created), Is.EqualTo(1), "exactly one write created the setting");
        Assert.That(all.Count(c => c == HttpStatusCode.OK), Is.EqualTo(Writers * EachWrites - 1));
        await app.Services.GetRequiredService<Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = app.OpenDatabase();
        var versions = db.Query<long>("SELECT version FROM setting_history WHERE store = 'system_config' AND key = 'bench_one_key' ORDER BY version").ToList();
        Assert.That(versions, Is.EqualTo(Enumerable.Range(1, Writers * EachWrites).Select(v => (long)v)), "one version per write, none skipped or repeated");
        var newest = db.ExecuteScalar<string>("SELECT new_value FROM setting_history WHERE store = 'system_config' AND key = 'bench_one_key' ORDER BY version DESC LIMIT 1");
        Assert.That(db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = 'bench_one_key'"), Is.EqualTo(newest));
        Assert.That(db.ExecuteScalar<long>("""
            SELECT (SELECT COUNT(*) FROM audit_log WHERE action = 'setting.changed' AND target_id = 'bench_one_key')
                 + (SELECT COUNT(*) FROM audit_unsealed WHERE action = 'setting.changed' AND target_id = 'bench_one_key')
            """), Is.EqualTo(Writers * EachWrites));
        var old = db.Query<string?>("SELECT old_value FROM setting_history WHERE store = 'system_config' AND key = 'bench_one_key' ORDER BY version").ToList();
        var @new = db.Query<string>("SELECT new_value FROM setting_history WHERE store = 'system_config' AND key = 'bench_one_key' ORDER BY version").ToList();
        Assert.That(old.Skip(1), Is.EqualTo(@new.Take(@new.Count - 1)), "each version replaced the one before it (no write read a stale row)");
    }
}
