using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>
/// An Npgsql command that tells its <see cref="PostgresConnection"/> when it may have written, so that this process's
/// own commits are counted (<see cref="PostgresCommits"/>) the moment they are visible, without every pooled connection
/// listening for them. A statement that starts with SELECT, SHOW or SET is taken to write nothing; anything else (an
/// INSERT, an UPDATE, a WITH that may hide one) is taken to write unless the server reports that it changed no row: the
/// background pollers' claims (<c>UPDATE ... WHERE due</c>) run every second and mostly find nothing, and counting them
/// emptied every cache each second. A write outside a transaction is counted once the statement is finished (for a
/// reader, when it closes: an INSERT ... RETURNING commits after its last row).
/// </summary>
public sealed class PostgresCommand(PostgresConnection owner, NpgsqlCommand inner) : DbCommand
{
    private PostgresTransaction? _transaction;

    public NpgsqlCommand Inner { get; } = inner;

    [AllowNull]
    public override string CommandText
    {
        get => Inner.CommandText;
        set => Inner.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => Inner.CommandTimeout;
        set => Inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => Inner.CommandType;
        set => Inner.CommandType = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => Inner.UpdatedRowSource;
        set => Inner.UpdatedRowSource = value;
    }

    public override bool DesignTimeVisible
    {
        get => Inner.DesignTimeVisible;
        set => Inner.DesignTimeVisible = value;
    }

    // The Npgsql connection, as before this wrapper: Dapper recognises it and passes lists as PostgreSQL arrays.
    protected override DbConnection? DbConnection
    {
        get => Inner.Connection;
        set => Inner.Connection = value switch
        {
            PostgresConnection postgres when postgres == owner => postgres.Inner,
            null => null,
            _ => throw new InvalidOperationException("A command stays on the connection that created it."),
        };
    }

    protected override DbParameterCollection DbParameterCollection => Inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => _transaction;
        set
        {
            _transaction = value as PostgresTransaction ?? (value is null ? null : throw new InvalidOperationException("Begin the transaction on the PostgresConnection."));
            Inner.Transaction = _transaction?.Inner;
        }
    }

    public override void Cancel() => Inner.Cancel();
    public override void Prepare() => Inner.Prepare();
    public override Task PrepareAsync(CancellationToken cancellationToken = default) => Inner.PrepareAsync(cancellationToken);
    protected override DbParameter CreateDbParameter() => Inner.CreateParameter();

    public override int ExecuteNonQuery()
    {
        if (!Writes()) return Inner.ExecuteNonQuery();
        var rows = -1;
        try { return rows = Inner.ExecuteNonQuery(); }
        finally { if (rows != 0) owner.Wrote(); }
    }

    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        if (!Writes()) return await Inner.ExecuteNonQueryAsync(cancellationToken);
        var rows = -1;
        try { return rows = await Inner.ExecuteNonQueryAsync(cancellationToken); }
        finally { if (rows != 0) owner.Wrote(); }
    }

    public override object? ExecuteScalar()
    {
        var wrote = Writes();
        try { return Inner.ExecuteScalar(); }
        finally { if (wrote) owner.Wrote(); }
    }

    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        var wrote = Writes();
        try { return await Inner.ExecuteScalarAsync(cancellationToken); }
        finally { if (wrote) owner.Wrote(); }
    }

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        if (!Writes()) return Inner.ExecuteReader(behavior);
        try { return Counted(Inner.ExecuteReader(behavior)); }
        catch { owner.Wrote(); throw; }
    }

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken)
    {
        if (!Writes()) return await Inner.ExecuteReaderAsync(behavior, cancellationToken);
        try { return Counted(await Inner.ExecuteReaderAsync(behavior, cancellationToken)); }
        catch { owner.Wrote(); throw; }
    }

    // -1 when a statement reports no count (DDL): counted.
    private NpgsqlDataReader Counted(NpgsqlDataReader reader)
    {
        reader.ReaderClosed += (_, _) => { if (reader.RecordsAffected != 0) owner.Wrote(); };
        return reader;
    }

    private bool Writes() => !IsRead(Inner.CommandText);

    /// <summary>Every statement of the command starts with SELECT, SHOW or SET (a ';' inside a literal only makes it a write: a needless count).</summary>
    internal static bool IsRead(string? sql)
    {
        var all = sql.AsSpan();
        foreach (var range in all.Split(';'))
        {
            var text = all[range].TrimStart();
            if (text.IsEmpty) continue;
            if (!text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
                && !text.StartsWith("SHOW", StringComparison.OrdinalIgnoreCase)
                && !text.StartsWith("SET", StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => Inner.DisposeAsync();
}
