using System.Data;
using System.Data.Common;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>
/// An Npgsql transaction whose commit is counted (<see cref="PostgresCommits"/>) when a command in it may have written
/// (<see cref="PostgresCommand"/>): counted after the commit returns, so a request that sees the new count reads the
/// new rows. A rolled-back transaction is not counted.
/// </summary>
public sealed class PostgresTransaction(PostgresConnection owner, NpgsqlTransaction inner) : DbTransaction
{
    public NpgsqlTransaction Inner { get; } = inner;

    internal bool Wrote { get; set; }

    protected override DbConnection DbConnection => owner;
    public override IsolationLevel IsolationLevel => Inner.IsolationLevel;

    public override void Commit()
    {
        try { Inner.Commit(); }
        finally { Finished(committed: true); }
    }

    public override async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        try { await Inner.CommitAsync(cancellationToken); }
        finally { Finished(committed: true); }
    }

    public override void Rollback()
    {
        try { Inner.Rollback(); }
        finally { Finished(committed: false); }
    }

    public override async Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        try { await Inner.RollbackAsync(cancellationToken); }
        finally { Finished(committed: false); }
    }

    /// <summary>True once a command's own COMMIT ended the transaction (<see cref="CommittedByCommand"/>).</summary>
    public bool IsCommitted { get; private set; }

    /// <summary>
    /// Records that the last command sent in the transaction ended with <c>COMMIT</c> and finished without error: a
    /// writer whose turn lasts until its commit saves the commit's round trip. Npgsql sees the transaction end in the
    /// server's reply; counted as <see cref="CommitAsync"/> counts.
    /// </summary>
    public void CommittedByCommand()
    {
        IsCommitted = true;
        Finished(committed: true);
    }

    // A commit that failed may still have happened on the server: counted too (a needless count only costs a cache miss).
    private void Finished(bool committed)
    {
        owner.Ended(this);
        if (committed && Wrote) owner.Commits.Bump();
        Wrote = false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            owner.Ended(this);
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        owner.Ended(this);
        await Inner.DisposeAsync();
    }
}
