using Dapper;
using Microsoft.Data.Sqlite;

namespace Sanctum.Api.Import;

/// <summary>
/// The Flask control panel's database (sanctumos/installer <c>control/db/sanctum_ui.db</c>), opened read-only.
/// Its tables grew in several places (SQLAlchemy models, an SQL script, the chat bridge's own fallback schema),
/// so columns are read where present and missing ones come back as NULL.
/// </summary>
public sealed class FlaskSource : IDisposable
{
    /// <summary>Created together by the old panel's first start; without them it is not that panel's database.</summary>
    public static readonly string[] RequiredTables = ["users", "agents", "system_config"];

    /// <summary>Created by the old chat bridge when it first ran; an install that never chatted lacks them.</summary>
    public static readonly string[] ChatTables = ["web_chat_sessions", "web_chat_messages", "web_chat_responses"];

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, HashSet<string>> _columns = new(StringComparer.OrdinalIgnoreCase);

    private FlaskSource(SqliteConnection connection)
    {
        _connection = connection;
        foreach (var table in connection.Query<string>("SELECT name FROM sqlite_master WHERE type = 'table'"))
        {
            _columns[table] = new HashSet<string>(
                connection.Query<string>("SELECT name FROM pragma_table_info(@table)", new { table }), StringComparer.OrdinalIgnoreCase);
        }
    }

    public SqliteConnection Connection => _connection;

    public bool HasTable(string table) => _columns.ContainsKey(table);

    public bool HasColumn(string table, string column) => _columns.TryGetValue(table, out var columns) && columns.Contains(column);

    /// <summary>The column as text (SQLite may hold any type in it), or NULL when the table has no such column.</summary>
    public string Text(string table, string column) =>
        HasColumn(table, column) ? $"CAST({column} AS TEXT) AS {column}" : $"NULL AS {column}";

    /// <summary>The column as an integer, or NULL when absent.</summary>
    public string Integer(string table, string column) =>
        HasColumn(table, column) ? $"CAST({column} AS INTEGER) AS {column}" : $"NULL AS {column}";

    /// <summary>The first of <paramref name="columns"/> that the table has, as text under the name of the first.</summary>
    public string TextOneOf(string table, params string[] columns) =>
        columns.FirstOrDefault(c => HasColumn(table, c)) is { } present ? $"CAST({present} AS TEXT) AS {columns[0]}" : $"NULL AS {columns[0]}";

    /// <summary>Why the file at <paramref name="path"/> cannot be imported, with the exit code; null when it can.</summary>
    public static (int ExitCode, string Reason)? Refusal(string path, out FlaskSource? source)
    {
        source = null;
        if (!File.Exists(path)) return (ImportExitCodes.NotSqlite, $"{path}: no such file.");
        if (!HasSqliteHeader(path)) return (ImportExitCodes.NotSqlite, $"{path} is not a SQLite database.");

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            var candidate = new FlaskSource(connection);
            if (candidate.HasTable("VersionInfo"))
                return (ImportExitCodes.NotFlask, $"{path} is a Sanctum.Api database, not the Flask control panel's.");
            var missing = RequiredTables.Where(t => !candidate.HasTable(t)).ToList();
            if (missing.Count > 0)
                return (ImportExitCodes.NotFlask, $"{path} is not the Flask control panel's database: no table {string.Join(", ", missing)}.");
            var missingColumns = new[] { "username", "email", "password_hash" }.Where(c => !candidate.HasColumn("users", c)).ToList();
            if (missingColumns.Count > 0)
                return (ImportExitCodes.NotFlask, $"{path} is not the Flask control panel's database: users has no {string.Join(", ", missingColumns)}.");
            source = candidate;
            connection = null;
            return null;
        }
        catch (SqliteException e)
        {
            // A file with the right header but damaged pages, or encrypted.
            return (ImportExitCodes.NotSqlite, $"{path} cannot be read as a SQLite database: {e.Message}");
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private static bool HasSqliteHeader(string path)
    {
        Span<byte> header = stackalloc byte[16];
        using var file = File.OpenRead(path);
        return file.ReadAtLeast(header, 16, throwOnEndOfStream: false) == 16 && header.SequenceEqual("SQLite format 3\0"u8);
    }

    public void Dispose() => _connection.Dispose();
}
