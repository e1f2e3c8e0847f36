using System.Security.Cryptography;
using System.Text;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// A SHA-256 over every row of every table (sqlite_* internals aside), in rowid order, each value tagged with its
/// storage class so 1, 1.0, '1' and X'31' differ. Comparing it before and after a refused request proves the
/// request changed nothing.
///
/// Columns that a refused request may legitimately change are left out, and only for the operations that do so:
/// a refused sign-in (401) is itself the event the lockout defence records, so for Login the digest skips
/// users.failed_login_attempts and users.locked_until. Nothing else is excluded: reads write nothing (session
/// authentication only SELECTs; last_login and user_sessions change only on a successful sign-in, a 2xx, after
/// which the sweep takes a new baseline).
/// </summary>
public static class DatabaseDigest
{
    // Ordinary tables only: the user-search index (an FTS5 virtual table and its shadow tables) is derived from
    // users, which is digested itself. audit_log is left out: a refused request is itself an event the audit log
    // records (a failed sign-in, a wrong bridge key), written by a background writer whenever its batch commits.
    private const string OrdinaryTables = "SELECT name FROM pragma_table_list WHERE type = 'table' AND schema = 'main' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('audit_log', 'audit_unsealed') ORDER BY name";

    // On PostgreSQL: the same tables (VersionInfo aside, as SQLite's digest has it too), rows in the order of all their
    // values; and not rate_limit_windows, the rate limits shared by all instances, which count refused requests too
    // (as the in-memory limiters do on SQLite: the bridge checks its limit before the body).
    private const string PostgresTables = """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('audit_log', 'audit_unsealed', 'rate_limit_windows')
        ORDER BY table_name COLLATE "C"
        """;

    private static bool IsSqlite(System.Data.Common.DbConnection db) => db is SqliteConnection;

    // The schema does not change while a sweep runs: read once per database (information_schema is slow on PostgreSQL).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<string>> SchemaCache = new();

    private static List<string> Tables(System.Data.Common.DbConnection db) => SchemaCache.GetOrAdd(db.ConnectionString + "|tables",
        _ => db.Query<string>(IsSqlite(db) ? OrdinaryTables : PostgresTables).ToList());

    private static List<string> Columns(System.Data.Common.DbConnection db, string table) => SchemaCache.GetOrAdd(db.ConnectionString + "|" + table,
        _ => db.Query<string>(IsSqlite(db)
            ? $"SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            : $"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position").ToList());

    private static string RowOrder(System.Data.Common.DbConnection db, int columns) =>
        IsSqlite(db) ? "rowid" : string.Join(", ", Enumerable.Range(1, Math.Max(1, columns)));

    public static readonly IReadOnlyDictionary<string, string[]> ExcludedByOperation = new Dictionary<string, string[]>
    {
        ["Login"] = ["users.failed_login_attempts", "users.locked_until"],
        // A wrong current password counts toward the same lockout as a failed sign-in.
        ["ChangePassword"] = ["users.failed_login_attempts", "users.locked_until"],
    };

    /// <summary>
    /// A number that moves whenever any connection has committed a change to a digested table since it was last read,
    /// so while it stands the database, and with it every digest, is unchanged and need not be computed again (the sweep
    /// reads it after every request). It may move without a change (then the digest is computed and compared for
    /// nothing); it never stands over a commit to a digested table.
    /// <list type="bullet">
    /// <item>SQLite: <c>PRAGMA data_version</c> of <paramref name="db"/>, which changes whenever another connection commits.</item>
    /// <item>PostgreSQL: the notifications <paramref name="db"/> has heard on <see cref="DigestedChannel"/>, which
    ///   statement triggers of the digest's own (<see cref="DigestedTriggersSql"/>) send at every commit that wrote a
    ///   digested table. The application's channel (<see cref="Sanctum.Api.Data.PostgresCommits.Channel"/>) is not
    ///   used: the tables left out of the digest (rate limits, the audit log) commit at most requests, each of which
    ///   then cost a digest for nothing. A committing backend signals every listening one before
    ///   its commit returns, and a listening backend sends what it was signalled before its next ReadyForQuery: so after
    ///   one round trip on <paramref name="db"/> (the <c>SELECT 1</c> here) every commit finished before the call is counted.
    ///   The triggers are installed and the connection made to listen on its first mark (both idempotent), whoever opened it.</item>
    /// </list>
    /// </summary>
    public static long CommitMark(System.Data.Common.DbConnection db)
    {
        if (IsSqlite(db)) return db.ExecuteScalar<long>("PRAGMA data_version");
        var heard = HeardNotifications.GetValue(db, connection =>
        {
            var counter = new NotificationCount();
            InstalledTriggers.GetOrAdd(connection.ConnectionString, _ =>
            {
                connection.Execute(DigestedTriggersSql(Tables(connection)));
                return true;
            });
            ((Npgsql.NpgsqlConnection)connection).Notification += (_, e) =>
            {
                if (e.Channel == DigestedChannel) Interlocked.Increment(ref counter.Value);
            };
            connection.Execute($"LISTEN {DigestedChannel}");
            return counter;
        });
        db.ExecuteScalar<int>("SELECT 1");
        return Volatile.Read(ref heard.Value);
    }

    /// <summary>The channel <see cref="DigestedTriggersSql"/>'s triggers notify: commits to the tables the digest covers.</summary>
    public const string DigestedChannel = "sanctum_digested";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> InstalledTriggers = new();

    /// <summary>A statement trigger (insert, update, delete, truncate) on each of <paramref name="tables"/> that notifies <see cref="DigestedChannel"/>.</summary>
    private static string DigestedTriggersSql(IEnumerable<string> tables) => $$"""
        CREATE OR REPLACE FUNCTION sanctum_digested_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            PERFORM pg_notify('{{DigestedChannel}}', '');
            RETURN NULL;
        END $f$;
        {{string.Concat(tables.Select(t => $"""
            CREATE OR REPLACE TRIGGER sanctum_digested_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{t}"
                FOR EACH STATEMENT EXECUTE FUNCTION sanctum_digested_changed();

            """))}}
        """;

    private sealed class NotificationCount
    {
        public long Value;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<System.Data.Common.DbConnection, NotificationCount> HeardNotifications = new();

    public static string Compute(System.Data.Common.DbConnection db, IReadOnlyCollection<string>? excluded = null)
    {
        if (!IsSqlite(db)) return ComputeOnPostgres(db, excluded);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var table in Tables(db).Where(t => excluded is null || !excluded.Contains(t)))
        {
            var columns = Columns(db, table)
                .Where(c => excluded is null || !excluded.Contains($"{table}.{c}"))
                .Select(c => $"\"{c}\"").ToList();
            Append(hash, $"table {table} ({string.Join(",", columns)})\n");
            using var command = db.CreateCommand();
            command.CommandText = $"SELECT {string.Join(", ", columns)} FROM \"{table}\" ORDER BY {RowOrder(db, columns.Count)}";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    Append(hash, value switch
                    {
                        DBNull => "N;",
                        long l => $"I{l};",
                        double d => $"R{d:R};",
                        string s => $"T{s.Length}:{s};",
                        byte[] b => $"B{Convert.ToHexString(b)};",
                        _ => $"?{value};",
                    });
                }
                Append(hash, "\n");
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// The same on PostgreSQL, in one query the server answers (a query per table from the client made the sweep take
    /// hours there): every row as its jsonb text, which tags each value with its type (1, 1.0 and "1" differ) and names
    /// its column, the excluded columns removed; the rows of each table sorted by that text (PostgreSQL has no rowid).
    /// </summary>
    private static string ComputeOnPostgres(System.Data.Common.DbConnection db, IReadOnlyCollection<string>? excluded)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var rows = new List<string>();
        foreach (var table in Tables(db).Where(t => excluded is null || !excluded.Contains(t)))
        {
            var columns = Columns(db, table).Where(c => excluded is null || !excluded.Contains($"{table}.{c}")).ToList();
            Append(hash, $"table {table} ({string.Join(",", columns.Select(c => $"\"{c}\""))})\n");
            var removed = string.Concat(Columns(db, table).Except(columns).Select(c => $" - '{c}'"));
            rows.Add($"SELECT '{table}' AS t, (to_jsonb(r){removed})::text AS v FROM \"{table}\" r");
        }
        var digest = db.ExecuteScalar<string>($"""
            SELECT encode(sha256(convert_to(coalesce(string_agg(t || ' ' || v, E'\n' ORDER BY t COLLATE "C", v COLLATE "C"), ''), 'UTF8')), 'hex')
            FROM ({string.Join(" UNION ALL ", rows)}) AS every_row
            """);
        Append(hash, digest!);
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Every row of every table as text, for a failure message that shows what changed.</summary>
    public static Dictionary<string, List<string>> Dump(System.Data.Common.DbConnection db)
    {
        var dump = new Dictionary<string, List<string>>();
        foreach (var table in Tables(db))
        {
            using var command = db.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\" ORDER BY {RowOrder(db, Columns(db, table).Count)}";
            using var reader = command.ExecuteReader();
            var rows = dump[table] = [];
            while (reader.Read())
                rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => $"{reader.GetName(i)}={Trim(reader.GetValue(i))}")));
        }
        return dump;
    }

    public static string Difference(Dictionary<string, List<string>> before, Dictionary<string, List<string>> after)
    {
        var lines = new List<string>();
        foreach (var table in before.Keys.Union(after.Keys))
        {
            var old = before.GetValueOrDefault(table) ?? [];
            var now = after.GetValueOrDefault(table) ?? [];
            lines.AddRange(old.Except(now).Select(r => $"- {table}: {r}"));
            lines.AddRange(now.Except(old).Select(r => $"+ {table}: {r}"));
        }
        return string.Join("\n", lines.Take(20));
    }

    private static string Trim(object value) => value is string s && s.Length > 80 ? s[..80] + $"…({s.Length})" : value.ToString() ?? "";

    private static void Append(IncrementalHash hash, string text) => hash.AppendData(Encoding.UTF8.GetBytes(text));
}
