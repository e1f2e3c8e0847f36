using System.Data.Common;
using Dapper;

namespace Sanctum.Api.Data;

/// <summary>
/// PostgreSQL session advisory locks, for work that one instance at a time may do however many share the database.
/// A lock belongs to the connection that took it and ends with it, so a crashed holder never leaves it taken.
/// </summary>
public static class PostgresLocks
{
    /// <summary>Migrating the schema.</summary>
    public const long Migration = 0x53414E43_0001; // "SANC" and a number

    /// <summary>Extending the audit chain (a transaction lock: Audit/AuditChain.BeginAppendAsync).</summary>
    public const long AuditChain = 0x53414E43_0002;

    /// <summary>Waits until <paramref name="key"/> is this connection's, or throws <see cref="DataDirectoryInUseException"/> after <paramref name="wait"/>.</summary>
    public static void Wait(DbConnection connection, long key, TimeSpan wait, string why)
    {
        var deadline = DateTime.UtcNow + wait;
        while (!TryTake(connection, key))
        {
            if (DateTime.UtcNow > deadline) throw new DataDirectoryInUseException($"The database is in use: {why} for over {wait.TotalSeconds:0} s.");
            Thread.Sleep(100);
        }
    }

    public static bool TryTake(DbConnection connection, long key) =>
        connection.ExecuteScalar<bool>("SELECT pg_try_advisory_lock(@key)", new { key });

    public static void Release(DbConnection connection, long key) =>
        connection.Execute("SELECT pg_advisory_unlock(@key)", new { key });
}
