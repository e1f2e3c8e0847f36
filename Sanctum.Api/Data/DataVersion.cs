using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sanctum.Api.Data;

/// <summary>
/// A number that changes whenever any connection commits to the database, read on one connection kept open for
/// nothing else. A read that is hot and the same for every caller can cache its result against it and never serve an
/// answer older than the last commit.
/// <list type="bullet">
/// <item>SQLite: <c>PRAGMA data_version</c>, which changes on every commit by another connection (this process's pool,
///   another process, the sqlite3 shell).</item>
/// <item>PostgreSQL: the server's current transaction snapshot (<c>pg_current_snapshot()</c>: oldest running
///   transaction, next transaction id, the ones running). A write transaction that starts moves the next id and one
///   that commits leaves the running list, so an unchanged snapshot means no commit in between, by any instance.</item>
/// </list>
/// </summary>
public sealed class DataVersion(Database database) : IDisposable
{
    private readonly Lock _lock = new();
    private DbConnection? _connection;
    private sqlite3_stmt? _statement; // SQLite
    private DbCommand? _command;      // PostgreSQL

    public long Current()
    {
        lock (_lock)
        {
            _connection ??= database.Open();
            if (_connection is SqliteConnection sqlite) return SqliteVersion(sqlite);
            if (_command is null)
            {
                _command = _connection.CreateCommand();
                _command.CommandText = "SELECT pg_current_snapshot()::text";
                _command.Prepare(); // prepared once: the point is that this costs next to nothing
            }
            return _command.ExecuteScalar() is string snapshot
                ? BitConverter.ToInt64(SHA256.HashData(Encoding.ASCII.GetBytes(snapshot)))
                : throw new InvalidOperationException("pg_current_snapshot() returned no text.");
        }
    }

    // Prepared once and stepped through the C API: it runs on every cached read (at least twice per request), where a
    // command's reader would cost more than the step itself.
    private long SqliteVersion(SqliteConnection sqlite)
    {
        if (_statement is null)
        {
            Check(sqlite, raw.sqlite3_prepare_v2(sqlite.Handle, "PRAGMA data_version", out var statement));
            _statement = statement;
        }
        try
        {
            Check(sqlite, raw.sqlite3_step(_statement) == raw.SQLITE_ROW ? raw.SQLITE_OK : raw.sqlite3_errcode(sqlite.Handle));
            return raw.sqlite3_column_int64(_statement, 0);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private static void Check(SqliteConnection sqlite, int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, sqlite.Handle);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _statement?.Dispose();
            _command?.Dispose();
            _connection?.Dispose();
        }
    }
}
