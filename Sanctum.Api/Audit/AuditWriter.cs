using Dapper;
using Sanctum.Api.Data;

namespace Sanctum.Api.Audit;

/// <summary>
/// Appends the events <see cref="AuditLog"/> queued: everything waiting goes into one write transaction, so the
/// audit log takes SQLite's write lock once per burst, never once per event, and never on a request's thread.
/// On PostgreSQL it is also the chain's sealer: rows that writes committed into <c>audit_unsealed</c> with themselves
/// (<see cref="AuditLog.RecordAsync"/>) are linked into the chain, oldest first, and removed from there in the same
/// transaction, at once when this instance committed them (<see cref="AuditLog.Committed"/>) and every
/// <see cref="SweepInterval"/> for rows another instance (or one that crashed) left. On shutdown it stores what is left
/// before the host stops.
/// </summary>
public sealed partial class AuditWriter(AuditLog log, AuditChain chain, Database database, Events.IEventPublisher events, ILogger<AuditWriter> logger) : BackgroundService
{
    private const int MaxBatch = 500;

    /// <summary>How often, on PostgreSQL, rows committed by other instances (or before a crash) are looked for.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEntry>(MaxBatch);
        // On PostgreSQL the first pass seals what a previous run left unsealed.
        var seal = !database.IsSqlite;
        Task<bool>? waiting = null;
        while (true)
        {
            if (!seal)
            {
                // Not stoppingToken: the loop ends when StopAsync completes the queue, after the last batch is stored.
                waiting ??= log.Queue.WaitToReadAsync(CancellationToken.None).AsTask();
                if (database.IsSqlite) await waiting;
                else await Task.WhenAny(waiting, Task.Delay(SweepInterval, stoppingToken));
                if (waiting.IsCompleted)
                {
                    var more = await waiting;
                    waiting = null;
                    if (!more) break;
                }
                seal = !database.IsSqlite;
            }
            var taken = 0;
            while (taken < MaxBatch && log.Queue.TryRead(out var entry))
            {
                taken++;
                if (entry is not null) batch.Add(entry);
            }
            if (batch.Count > 0 || seal) await StoreAsync(batch, seal, stoppingToken);
            log.Stored(taken);
            batch.Clear();
            seal = false;
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        log.Complete();
        return base.StopAsync(cancellationToken);
    }

    private async Task StoreAsync(List<AuditEntry> batch, bool seal, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                List<AuditEntry> sealedRows;
                do
                {
                    await using var db = database.Create();
                    if (database.IsSqlite)
                    {
                        await using var tx = await AuditChain.BeginAppendAsync(db, CancellationToken.None);
                        await chain.AppendAsync(db, tx, batch);
                        await tx.CommitAsync(CancellationToken.None);
                        sealedRows = [];
                    }
                    else sealedRows = await chain.SealAsync(db, batch, seal, MaxBatch);
                    foreach (var e in sealedRows.Concat(batch))
                        events.Publish("audit", "audit.recorded",
                            new { e.At, e.Actor, e.Action, e.TargetType, e.TargetId, e.Outcome }, Events.EventAudience.Admins);
                    batch = [];
                }
                while (sealedRows.Count == MaxBatch);
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException && attempt < 5 && !stoppingToken.IsCancellationRequested)
            {
                LogRetry(logger, batch.Count, attempt, e);
                await Task.Delay(TimeSpan.FromSeconds(attempt), CancellationToken.None);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
            {
                // The events are still in the log (one line each); losing the rows must not stop later ones. Unsealed rows
                // stay in audit_unsealed for the next pass.
                LogLost(logger, batch.Count, e);
                return;
            }
        }
    }

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Storing {Count} audit events failed (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, int count, int attempt, Exception error);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Error, Message = "{Count} audit events could not be stored; they remain only in this log")]
    private static partial void LogLost(ILogger logger, int count, Exception error);
}
