using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Events;

namespace Sanctum.Api.Logs;

/// <summary>
/// Drains <see cref="LogStore"/>'s queue into its file, a batch per transaction, and prunes by age and size. It never
/// logs through ILogger (its own lines would feed the queue it drains): a failure goes to standard error once.
/// Written lines are announced on the <c>logs</c> topic (<c>logs.appended</c>) at most once per
/// <see cref="AnnounceEvery"/>, so a busy log costs the live tail one event a second, not one per line.
/// </summary>
public sealed class LogStoreWriter(LogStore store, IEventPublisher events) : BackgroundService
{
    private const int MaxBatch = 500;
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan AnnounceEvery = TimeSpan.FromSeconds(1);
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;
    private bool _complained;
    private long _unannounced;
    private int _announcing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            store.CreateSchema();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            Complain(e);
            return;
        }
        var reader = store.Queue;
        var batch = new List<LogRecord>(MaxBatch);
        var flushes = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
                await DrainAsync(reader, batch, flushes);
        }
        catch (OperationCanceledException) { }
        // Stopping: what is already queued still goes in.
        store.Complete();
        await DrainAsync(reader, batch, flushes);
    }

    private Task DrainAsync(System.Threading.Channels.ChannelReader<object> reader, List<LogRecord> batch, List<TaskCompletionSource> flushes)
    {
        while (reader.TryRead(out var item))
        {
            if (item is LogRecord record) batch.Add(record);
            else if (item is TaskCompletionSource flush) flushes.Add(flush);
            if (batch.Count >= MaxBatch) Write(batch);
        }
        Write(batch);
        Prune(force: false);
        foreach (var flush in flushes) flush.TrySetResult();
        flushes.Clear();
        return Task.CompletedTask;
    }

    private void Write(List<LogRecord> batch)
    {
        if (batch.Count == 0) return;
        try
        {
            using var db = store.Open();
            using var tx = db.BeginTransaction();
            foreach (var r in batch)
                db.Execute("""
                    INSERT INTO log_lines (at, level, category, message, event_id, event_name, trace_id, job_run_id, instance_id, exception, properties)
                    VALUES (@at, @level, @category, @message, @eventId, @eventName, @traceId, @jobRunId, @instanceId, @exception, @properties)
                    """, new
                    {
                        at = LogStore.Time(r.At), level = (int)r.Level, category = Cut(r.Category, LogStore.MaxCategory), message = Cut(r.Message, LogStore.MaxMessage),
                        eventId = r.EventId, eventName = r.EventName is null ? null : Cut(r.EventName, LogStore.MaxEventName),
                        traceId = r.TraceId is null ? null : Cut(r.TraceId, LogStore.MaxTraceId), jobRunId = r.JobRunId, instanceId = r.InstanceId,
                        exception = r.Exception is null ? null : Cut(r.Exception, LogStore.MaxException), properties = JsonSerializer.Serialize(r.Properties),
                    }, tx);
            tx.Commit();
            Announce(batch.Count);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            Complain(e);
        }
        batch.Clear();
    }

    /// <summary>Removes lines past the age limit (once a minute, or now when forced), then the oldest quarter at a time while the live pages exceed the size limit.</summary>
    public void Prune(bool force)
    {
        var now = store.Clock.GetUtcNow();
        try
        {
            using var db = store.Open();
            if (force || now - _lastPrune >= PruneEvery)
            {
                _lastPrune = now;
                db.Execute("DELETE FROM log_lines WHERE at < @cutoff", new { cutoff = LogStore.Time(now - store.Options.MaxAge) });
            }
            for (var round = 0; round < 8; round++)
            {
                var (pages, free, size) = db.QuerySingle<(long, long, long)>(
                    "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)");
                if ((pages - free) * size <= store.Options.MaxBytes) break;
                // Freed pages are reused by later inserts, so the file stays near the limit without a VACUUM.
                db.Execute("""
                    DELETE FROM log_lines WHERE id <= (SELECT id FROM log_lines ORDER BY id
                        LIMIT 1 OFFSET (SELECT max(1, count(*) / 4) FROM log_lines))
                    """);
            }
        }
        catch (SqliteException e)
        {
            Complain(e);
        }
    }

    private void Announce(int written)
    {
        Interlocked.Add(ref _unannounced, written);
        if (Interlocked.Exchange(ref _announcing, 1) == 1) return;
        _ = AnnounceSoonAsync();
    }

    private async Task AnnounceSoonAsync()
    {
        try
        {
            await Task.Delay(AnnounceEvery, store.Clock);
        }
        finally
        {
            Volatile.Write(ref _announcing, 0);
            var count = Interlocked.Exchange(ref _unannounced, 0);
            if (count > 0) events.Publish("logs", "logs.appended", new { count }, EventAudience.Admins);
        }
    }

    private static string Cut(string text, int max) => text.Length > max ? text[..max] : text;

    private void Complain(Exception e)
    {
        if (_complained) return;
        _complained = true;
        Console.Error.WriteLine($"The log store {store.FilePath} could not be written: {e.Message}");
    }
}
