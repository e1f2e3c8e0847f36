using Dapper;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Data;

namespace Sanctum.Api.Backups;

/// <summary>
/// The SQLite-specific half of backups, kept in this one file: an online copy of the live database, the checks of a
/// copy, and putting a copy in place of the live database.
/// </summary>
public static class SqliteSnapshot
{
    /// <summary>
    /// A consistent copy of the live database at <paramref name="path"/>, taken online: VACUUM INTO reads inside one
    /// read transaction, so writers carry on and the copy holds exactly the commits before it began (never a copy of
    /// the WAL database's files, which can be torn).
    /// </summary>
    public static void Take(Database database, string path)
    {
        using var connection = database.OpenSqlite();
        connection.Execute("VACUUM INTO @path", new { path });
    }

    /// <summary>Opens a copy read-only, outside the pool (so no handle outlives the check).</summary>
    public static SqliteConnection OpenCopy(string path, bool readOnly = true)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>The problems <c>PRAGMA integrity_check</c> reports (none: the file is sound), or the reason it is no database.</summary>
    public static IReadOnlyList<string> IntegrityProblems(string path)
    {
        try
        {
            using var connection = OpenCopy(path);
            var lines = connection.Query<string>("PRAGMA integrity_check").ToList();
            return lines is ["ok"] ? [] : lines;
        }
        catch (SqliteException e)
        {
            return [$"sanctum.db is not a readable SQLite database ({e.Message})."];
        }
    }

    /// <summary>The FluentMigrator version the database was migrated to (0 when it never was).</summary>
    public static long SchemaVersion(SqliteConnection connection) => SchemaVersions.Of(connection, SqlDialect.Sqlite);

    /// <summary>Rows per ordinary table (SQLite's own tables, the search index's shadow tables and VersionInfo left out).</summary>
    public static IReadOnlyDictionary<string, long> RowCounts(SqliteConnection connection)
    {
        var tables = connection.Query<string>("""
            SELECT name FROM pragma_table_list
            WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'VersionInfo'
            ORDER BY name
            """).ToList();
        return tables.ToDictionary(t => t, t => connection.ExecuteScalar<long>($"SELECT COUNT(*) FROM \"{t.Replace("\"", "\"\"")}\""), StringComparer.Ordinal);
    }

    /// <summary>
    /// Replaces the live database's content with the copy's, in one write transaction of SQLite's backup API: every
    /// other connection, in this process or another, sees either the old database or the new one, never a mix. The
    /// file stays in WAL mode (SQLite keeps the destination's journal mode).
    /// </summary>
    public static void ReplaceLive(Database database, string copyPath)
    {
        using (var copy = OpenCopy(copyPath))
        using (var live = database.OpenSqlite())
        {
            copy.BackupDatabase(live);
            live.Execute("PRAGMA journal_mode = WAL;");
        }
        // Idle pooled connections may have cached the old schema: start afresh.
        database.ClearPool();
    }
}
