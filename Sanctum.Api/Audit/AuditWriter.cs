using Sanctum.Api.Data;

namespace Sanctum.Api.Audit;

/// <summary>
/// Appends the events <see cref="AuditLog"/> queued: everything waiting goes into one write transaction, so the
/// audit log takes SQLite's write lock once per burst, never once per event, and never on a request's thread.
/// On shutdown it stores what is left before the host stops.
/// </summary>
public sealed partial class AuditWriter(AuditLog log, AuditChain chain, Database database, Events.IEventPublisher events, ILogger<AuditWriter> logger) : BackgroundService
{
    private const int MaxBatch = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEntry>(MaxBatch);
        // Not stoppingToken: the loop ends when StopAsync completes the queue, after the last batch is stored.
        while (await log.Queue.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && log.Queue.TryRead(out var entry)) batch.Add(entry);
            await StoreAsync(batch, stoppingToken);
            log.Stored(batch.Count);
            batch.Clear();
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        log.Complete();
        return base.StopAsync(cancellationToken);
    }

    private async Task StoreAsync(List<AuditEntry> batch, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = database.Open();
                using var tx = db.BeginTransaction();
                chain.Append(db, tx, batch);
                tx.Commit();
                foreach (var e in batch)
                    events.Publish("audit", "audit.recorded",
                        new { e.At, e.Actor, e.Action, e.TargetType, e.TargetId, e.Outcome }, Events.EventAudience.Admins);
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException && attempt < 5 && !stoppingToken.IsCancellationRequested)
            {
                LogRetry(logger, batch.Count, attempt, e);
                await Task.Delay(TimeSpan.FromSeconds(attempt), CancellationToken.None);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
            {
                // The events are still in the log (one line each); losing the rows must not stop later ones.
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
