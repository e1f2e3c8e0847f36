using Microsoft.Data.Sqlite;

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
    private SqliteCommand? _command;

    public long Current()
    {
        lock (_lock)
        {
            if (_command is null)
            {
                _connection = database.Open();
                _command = _connection.CreateCommand();
                _command.CommandText = "PRAGMA data_version";
                _command.Prepare(); // prepared once: the point is that this costs next to nothing
            }
            return (long)_command.ExecuteScalar()!;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _command?.Dispose();
            _connection?.Dispose();
        }
    }
}
