using Sanctum.Migrations;

namespace Sanctum.Api.Tests.Migrations;

public class MigrationTests
{
    private static readonly SeedSettings CheapSeed = new() { BcryptWorkFactor = 4 };

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void EachPhaseGoesUpDownAndUpAgainToTheSameSchema(long phase)
    {
        using var db = new MigrationHarness(CheapSeed);
        db.Up(phase);
        var first = db.Schema();

        db.Down(phase - 1);
        Assert.That(db.Schema(), Is.Not.EqualTo(first), $"Down() of phase {phase} changed nothing");
        db.Up(phase);

        Assert.That(db.Schema(), Is.EqualTo(first));
    }

    [Test]
    public void DownToZeroLeavesOnlyTheVersionTable()
    {
        using var db = new MigrationHarness(CheapSeed);
        db.UpToLatest();
        db.Down(0);
        using var connection = db.Open();
        var tables = connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        Assert.That(tables, Is.EquivalentTo(new[] { "VersionInfo" }));
    }

    [Test]
    public void RowsWrittenAtEachPhaseSurviveTheLaterPhasesUnchanged()
    {
        using var db = new MigrationHarness(CheapSeed);
        var snapshots = new List<(string Table, string Rows)>();

        db.Up(1);
        using (var c = db.Open())
        {
            c.Execute("INSERT INTO tools (id, name, category, status, route_path) VALUES ('p1-tool', 'P1 tool ✓', 'smcp', 'Off', '/p1')");
            c.Execute("INSERT INTO agents (id, name, display_name) VALUES ('p1-agent', 'P1', 'Phase One')");
            c.Execute("INSERT INTO users (username, email, password_hash, role, status) VALUES ('p1user', 'p1@x.test', 'h', 'viewer', 'inactive')");
        }
        snapshots.AddRange(Snapshot(db, "tools", "agents", "users"));

        db.Up(2);
        using (var c = db.Open())
        {
            c.Execute("INSERT INTO user_sessions (id, user_id, session_token, expires_at) VALUES ('s1', 2, 'hash', '2030-01-01T00:00:00Z')");
            c.Execute("INSERT INTO agent_configs (agent_id, config_key, config_value, config_type) VALUES ('p1-agent', 'temperature', '0.7', 'number')");
        }
        snapshots.AddRange(Snapshot(db, "user_sessions", "agent_configs"));

        db.Up(3);
        using (var c = db.Open())
        {
            c.Execute("INSERT INTO env_vars (var_name, var_value) VALUES ('P3_VAR', 'x')");
            c.Execute("INSERT INTO tool_instances (tool_id, agent_id, name, config) VALUES ('p1-tool', 'p1-agent', 'i1', '{\"a\":1}')");
        }
        snapshots.AddRange(Snapshot(db, "env_vars", "tool_instances", "system_config"));

        db.UpToLatest();

        foreach (var (table, rows) in snapshots)
        {
            var now = Snapshot(db, table).Single().Rows;
            var before = rows.Split('\n');
            // Later phases may add columns (and Phase 4 seeds the smcp tool); every earlier value must still be there, in order.
            var after = now.Split('\n').Where(r => !(table == "tools" && r.StartsWith("smcp|", StringComparison.Ordinal))).ToArray();
            Assert.That(after, Has.Length.EqualTo(before.Length), $"{table}: row count changed");
            for (var i = 0; i < before.Length; i++)
                Assert.That(after[i], Does.StartWith(before[i]), $"{table}: row {i} changed");
        }
    }

    [Test]
    public void SeedRowsHaveTheRealEmojiAndAnAdminWhosePasswordIsAdmin123()
    {
        using var db = new MigrationHarness(); // the defaults: admin123 at bcrypt cost 12
        db.UpToLatest();
        using var c = db.Open();

        var emoji = c.Query<(string Id, string Emoji)>("SELECT id, emoji FROM tools").ToDictionary(t => t.Id, t => t.Emoji);
        Assert.That(emoji, Is.EqualTo(new Dictionary<string, string>
        {
            ["system-settings"] = "\u2699\uFE0F",
            ["install-tool"] = "\U0001F9F0",
            ["cron-scheduler"] = "\u23F0",
            ["create-agent"] = "\u2795",
            ["backup-restore"] = "\U0001F4C1",
            ["chat-settings"] = "\U0001F4AC",
            ["broca"] = "\U0001F6F0\uFE0F",
            ["smcp"] = "\U0001F9E9",
        }));
        Assert.That(c.Query<string>("SELECT id FROM tools WHERE category = 'athena' ORDER BY id"), Is.EqualTo(new[] { "broca", "chat-settings" }));
        Assert.That(c.Query<string>("SELECT display_name FROM agents ORDER BY id"), Is.EqualTo(new[] { "Athena Prime", "Monday Prime", "Timbre Prime" }));

        var admin = c.QuerySingle<(string Hash, string Role, long MustChange)>("SELECT password_hash, role, must_change_password FROM users WHERE username = 'admin'");
        Assert.That(admin.Hash, Does.StartWith("$2"));
        Assert.That(BCrypt.Net.BCrypt.Verify("admin123", admin.Hash), Is.True);
        Assert.That(admin.Role, Is.EqualTo("admin"));
        Assert.That(admin.MustChange, Is.EqualTo(1));

        Assert.That(c.ExecuteScalar<long>("SELECT COUNT(*) FROM system_config"), Is.EqualTo(16));
        Assert.That(c.Query<string>("SELECT config_key FROM system_config WHERE is_encrypted = TRUE ORDER BY config_key"),
            Is.EqualTo(new[] { "anthropic_api_key", "chat_admin_key", "chat_api_key", "letta_server_token", "openai_api_key" }));
    }

    [Test]
    public void TwoInstallsNeverShareAnAdminHash()
    {
        using var a = new MigrationHarness(CheapSeed);
        using var b = new MigrationHarness(CheapSeed);
        a.Up(1);
        b.Up(1);
        using var ca = a.Open();
        using var cb = b.Open();
        const string sql = "SELECT password_hash FROM users WHERE username = 'admin'";
        Assert.That(ca.QuerySingle<string>(sql), Is.Not.EqualTo(cb.QuerySingle<string>(sql)));
    }

    private static IEnumerable<(string Table, string Rows)> Snapshot(MigrationHarness db, params string[] tables)
    {
        using var c = db.Open();
        foreach (var table in tables)
        {
            var rows = c.Query($"SELECT * FROM {table} ORDER BY rowid")
                .Select(r => string.Join("|", ((IDictionary<string, object?>)r).Values.Select(v => v?.ToString() ?? "NULL")));
            yield return (table, string.Join('\n', rows));
        }
    }
}
