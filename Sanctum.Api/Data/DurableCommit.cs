using System.Data.Common;
using Dapper;

namespace Sanctum.Api.Data;

/// <summary>
/// Commits a write whose writers take turns (a key's advisory lock, its row's lock, <c>SettingWriteGate</c>) without
/// keeping the next writer waiting through the disk flush, and returns only once the write is as durable as the server
/// makes any commit. On PostgreSQL the transaction commits with <c>synchronous_commit</c> off, so its locks go as soon
/// as its commit record is in the WAL buffers (it is visible from then on) and the caller's <paramref name="turn"/> is
/// handed on; then a transactional logical message commits with the session's own <c>synchronous_commit</c> (on unless
/// the operator chose otherwise): that commit waits until the WAL is flushed (or replicated, as configured) past its own
/// record, and so past the write's commit, which precedes it in the one WAL. Flushes of concurrent writers share one
/// fsync (group commit), where a lock held through the flush let one key take one write per fsync: PUT of one setting
/// ran at 30-85 req/s at 32 connections on PostgreSQL under load, 1,000 req/s when the same writes were spread over
/// many keys (bench/RESULTS.md, stop 26).
/// <para>
/// What is given up: during the few milliseconds between the two, a reader may see the write before it is on disk, and a
/// crash of the database server then would lose a value someone read (never one a writer was told is stored: an
/// acknowledgement comes after the flush, and a later writer's flush covers every earlier commit). On SQLite it is the
/// plain commit (its durability is <c>Sanctum:Durability</c>'s).
/// </para>
/// </summary>
public static class DurableCommit
{
    /// <summary>Anywhere in the transaction: the commit it applies to need not wait for the flush.</summary>
    public const string AsyncCommitCall = "set_config('synchronous_commit', 'off', true)";

    /// <summary>
    /// A commit that writes one WAL record and no table (so no trigger, nothing for logical decoding to apply), made with
    /// the session's synchronous_commit. A transaction with no WAL of its own would commit without waiting for anything.
    /// </summary>
    public const string FlushSql = "SELECT pg_logical_emit_message(true, 'sanctum', '')";

    /// <param name="asyncCommitAsked">The transaction ran <see cref="AsyncCommitCall"/> already (with its first statement).</param>
    /// <remarks>A transaction its last command committed (<see cref="PostgresTransaction.CommittedByCommand"/>) only waits for the flush.</remarks>
    public static async Task CommitAsync(DbTransaction tx, IDisposable? turn = null, bool asyncCommitAsked = false)
    {
        var db = tx.Connection ?? throw new InvalidOperationException("The transaction is finished already.");
        if (SqlDialect.Of(db).Engine != DatabaseEngine.Postgres)
        {
            await tx.CommitAsync(CancellationToken.None);
            turn?.Dispose();
            return;
        }
        if (tx is not PostgresTransaction { IsCommitted: true })
        {
            if (!asyncCommitAsked) await db.ExecuteAsync($"SELECT {AsyncCommitCall}", transaction: tx);
            await tx.CommitAsync(CancellationToken.None);
        }
        turn?.Dispose();
        await db.ExecuteAsync(FlushSql);
    }
}
