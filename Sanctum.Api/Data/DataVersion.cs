using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sanctum.Api.Data;

/// <summary>
/// SQLite's <c>PRAGMA data_version</c>, read on one connection kept open for nothing else: the number changes
/// whenever any other connection commits to the database file (this process's pool, another process, the sqlite3
/// shell). A read that is hot and the same for every caller can cache its result against it and never serve an
/// answer older than the last commit.
/// </summary>
public sealed class DataVersion(Database database) : IDisposable
{
    private readonly Lock _lock = new();
    private SqliteConnection? _connection;
    private sqlite3_stmt? _statement;

    public long Current()
    {
        lock (_lock)
        {
            if (_statement is null)
            {
                _connection = database.Open();
                // Prepared once and stepped through the C API: it runs on every cached read (at least twice per
                // request), where a command's reader would cost more than the step itself.
                Check(raw.sqlite3_prepare_v2(_connection.Handle, "PRAGMA data_version", out var statement));
                _statement = statement;
            }
            try
            {
                Check(raw.sqlite3_step(_statement) == raw.SQLITE_ROW ? raw.SQLITE_OK : raw.sqlite3_errcode(_connection!.Handle));
                return raw.sqlite3_column_int64(_statement, 0);
            }
            finally
            {
                raw.sqlite3_reset(_statement);
            }
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _connection!.Handle);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _statement?.Dispose();
            _connection?.Dispose();
        }
    }
}
