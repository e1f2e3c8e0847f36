using System.Data.Common;
using System.Security.Cryptography;
using System.Text;

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
    private DbCommand? _command;

    public long Current()
    {
        lock (_lock)
        {
            if (_command is null)
            {
                _connection = database.Open();
                _command = _connection.CreateCommand();
                _command.CommandText = database.IsSqlite ? "PRAGMA data_version" : "SELECT pg_current_snapshot()::text";
                _command.Prepare(); // prepared once: the point is that this costs next to nothing
            }
            return _command.ExecuteScalar() switch
            {
                long version => version,
                string snapshot => BitConverter.ToInt64(SHA256.HashData(Encoding.ASCII.GetBytes(snapshot))),
                var other => throw new InvalidOperationException($"Unexpected data version {other}."),
            };
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
