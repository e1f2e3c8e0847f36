using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>
/// A connection to PostgreSQL with SQLite's transaction semantics where the code relies on them: a transaction begun
/// without an isolation level is SERIALIZABLE (SQLite's BEGIN IMMEDIATE runs it as if alone), so a check-then-write
/// holds however many connections and instances write at once, and a lost race is a serialization error that the
/// request is retried on (<see cref="SerializationRetry"/>). A statement outside a transaction stays READ COMMITTED,
/// where one guarded UPDATE (a counter, a lease) waits for a concurrent one and then applies, instead of failing; a
/// transaction whose every statement is guarded that way asks for <c>IsolationLevel.ReadCommitted</c> (sign-in).
/// Everything else is the Npgsql connection's own. Send one statement per command: Npgsql writes the later statements
/// of a synchronous multi-statement command on the thread pool: while requests waiting for a row lock occupy every
/// pool thread, the transaction holding that lock cannot send its next statement and never finishes (AuthApi.Login).
/// <para>
/// Its commands and transactions count this process's own commits (<see cref="PostgresCommand"/>,
/// <see cref="PostgresTransaction"/>) in <see cref="Commits"/> as soon as they are visible.
/// </para>
/// </summary>
public sealed class PostgresConnection(NpgsqlConnection inner, PostgresCommits commits) : DbConnection
{
    private PostgresTransaction? _transaction;

    public NpgsqlConnection Inner { get; } = inner;

    internal PostgresCommits Commits { get; } = commits;

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) =>
        _transaction = new PostgresTransaction(this, Inner.BeginTransaction(Level(isolationLevel)));

    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        _transaction = new PostgresTransaction(this, await Inner.BeginTransactionAsync(Level(isolationLevel), cancellationToken));

    private static IsolationLevel Level(IsolationLevel asked) => asked == IsolationLevel.Unspecified ? IsolationLevel.Serializable : asked;

    protected override DbCommand CreateDbCommand() => new PostgresCommand(this, Inner.CreateCommand());

    /// <summary>A command may have written: counted at the transaction's commit, or now if it ran on its own.</summary>
    internal void Wrote()
    {
        if (_transaction is { } open) open.Wrote = true;
        else Commits.Bump();
    }

    internal void Ended(PostgresTransaction transaction)
    {
        if (_transaction == transaction) _transaction = null;
    }

    [AllowNull]
    public override string ConnectionString
    {
        get => Inner.ConnectionString;
        set => Inner.ConnectionString = value;
    }

    public override string Database => Inner.Database;
    public override string DataSource => Inner.DataSource;
    public override string ServerVersion => Inner.ServerVersion;
    public override ConnectionState State => Inner.State;
    public override int ConnectionTimeout => Inner.ConnectionTimeout;

    public override void ChangeDatabase(string databaseName) => Inner.ChangeDatabase(databaseName);
    public override void Open() => Inner.Open();
    public override Task OpenAsync(CancellationToken cancellationToken) => Inner.OpenAsync(cancellationToken);
    public override void Close() => Inner.Close();
    public override Task CloseAsync() => Inner.CloseAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => Inner.DisposeAsync();
}
