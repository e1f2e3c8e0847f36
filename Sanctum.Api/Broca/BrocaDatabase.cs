using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Broca;

/// <summary>
/// Opens an agent's Broca database (always a SQLite file, whichever engine Sanctum uses) for one request: never created,
/// a busy timeout on every statement, writes in short BEGIN IMMEDIATE transactions so a refused lock changes nothing.
/// </summary>
public sealed class BrocaDatabase(IOptions<BrocaOptions> options, BrocaQueueStatsCache stats)
{
    public BrocaOptions Options => options.Value;

    public async Task<DbConnection> OpenAsync(AgentHome home, bool write, CancellationToken cancellationToken = default)
    {
        var path = home.File(BrocaHome.DatabaseFile);
        if (!File.Exists(path)) throw new BrocaUnavailableException(StatusCodes.Status409Conflict, $"Agent '{home.AgentId}' has no Broca database at {path}.");
        if (write) stats.Forget(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = write ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = Math.Max(1, (options.Value.BusyTimeoutMs + 999) / 1000),
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA busy_timeout = {Math.Max(0, options.Value.BusyTimeoutMs)}";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The queue's figures at <paramref name="now"/>, from <see cref="BrocaQueueStatsCache"/> while the database is unchanged.</summary>
    public async Task<BrocaQueueStats> QueueStatsAsync(AgentHome home, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var figures = await stats.GetAsync(home.File(BrocaHome.DatabaseFile), async () =>
        {
            await using var broca = await OpenAsync(home, write: false, cancellationToken);
            return await BrocaQueueApi.ReadStatsAsync(broca, now);
        });
        return figures with { OldestPendingSeconds = BrocaQueueApi.SecondsSince(figures.OldestPendingAt, now) };
    }

    /// <summary>What a failure of Broca's database means for the client: 503 when busy (try again), 409 otherwise; null for a bug.</summary>
    public static BrocaUnavailableException? Explain(Exception e, AgentHome home) => e switch
    {
        BrocaUnavailableException known => known,
        SqliteException s when DbErrors.IsBusy(s) => new(StatusCodes.Status503ServiceUnavailable,
            $"Broca's database of agent '{home.AgentId}' is busy (its writer holds the lock): nothing was changed; try again."),
        SqliteException { SqliteErrorCode: 8 } => new(StatusCodes.Status409Conflict,
            $"Broca's database of agent '{home.AgentId}' is read-only for this service: nothing was changed."),
        SqliteException { SqliteErrorCode: 14 } => new(StatusCodes.Status409Conflict,
            $"Broca's database of agent '{home.AgentId}' cannot be opened."),
        SqliteException { SqliteErrorCode: 1 or 11 or 26 } s => new(StatusCodes.Status409Conflict,
            $"{home.File(BrocaHome.DatabaseFile)} is not a Broca database this service can read ({s.Message})."),
        SqliteException { SqliteErrorCode: 13 } => new(StatusCodes.Status503ServiceUnavailable, "The disk under Broca's database is full: nothing was changed."),
        _ => null,
    };
}

/// <summary>Broca's folder or database cannot serve the request now: the status (409 or 503) and why.</summary>
public sealed class BrocaUnavailableException(int status, string detail) : Exception(detail)
{
    public int Status { get; } = status;
}
