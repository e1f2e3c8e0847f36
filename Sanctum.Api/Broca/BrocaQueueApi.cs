using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>
/// An agent's Broca queue, while Broca keeps running: reads on a read-only connection, each write in short
/// BEGIN IMMEDIATE transactions with a busy timeout (503 and nothing changed when the lock does not come), flush and
/// retry-failed in batches so the lock is never held long. Admins write; every write is audited with its counts.
/// </summary>
public static class BrocaQueueApi
{
    public static readonly string[] Statuses = ["pending", "processing", "done", "completed", "failed", "flushed"];
    public const int DefaultLimit = 50, MaxLimit = 200;

    public static void MapBrocaQueue(this RouteGroupBuilder group)
    {
        group.MapGet("/queue", List).WithName("ListBrocaQueue")
            .WithSummary("The agent's Broca queue, newest first: id, status, attempts, timestamp, the message and the platform user's name; cursor = next_cursor")
            .Produces<BrocaQueuePage>().ProducesValidationProblem().BrocaProblems();
        group.MapGet("/queue/stats", Stats).WithName("GetBrocaQueueStats")
            .WithSummary("Count per status, the oldest pending item's age and the items failed in the last hour (by their queue timestamp)")
            .Produces<BrocaQueueStats>().BrocaProblems();
        group.MapPost("/queue/{qid:long}/retry", Retry).WithName("RetryBrocaQueueItem").RequireAdmin()
            .WithSummary("Put a failed item back to pending (admin); 409 when it is not failed").Produces<BrocaQueueChange>().BrocaProblems();
        group.MapPost("/queue/retry-failed", RetryFailed).WithName("RetryFailedBrocaQueueItems").RequireAdmin()
            .WithSummary("Put every failed item back to pending (admin), in short batches").Produces<BrocaQueueChange>().BrocaProblems();
        group.MapPost("/queue/flush", Flush).WithName("FlushBrocaQueue").RequireAdmin()
            .WithSummary("Turn every pending item into flushed, as Broca's own CLI does (admin), in short batches").Produces<BrocaQueueChange>().BrocaProblems();
        group.MapDelete("/queue/{qid:long}", Delete).WithName("DeleteBrocaQueueItem").RequireAdmin()
            .WithSummary("Delete a queue item (admin); 409 while Broca is processing it").Produces(StatusCodes.Status204NoContent).BrocaProblems();
    }

    private static Task<IResult> List(string id, [Infrastructure.OneOf(typeof(BrocaQueueApi), nameof(Statuses))] string? status, int? limit, long? cursor, BrocaQueueServices s)
    {
        var errors = new Errors();
        if (limit is not null and (< 1 or > MaxLimit)) errors.Add("limit", $"Must be from 1 to {MaxLimit}.");
        if (cursor is not null and < 1) errors.Add("cursor", "Must be a positive queue id (next_cursor of the previous page).");
        if (errors.Any) return Task.FromResult<IResult>(Problems.Invalid(errors));
        var take = limit ?? DefaultLimit;
        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            await using var broca = await s.Broca.OpenAsync(home, write: false, s.Http.RequestAborted);
            // Newest first along the rowid: without an index on status, a filtered page still reads only as far back as it needs.
            var rows = (await broca.QueryAsync<BrocaQueueItem>("""
                SELECT q.id, q.status, q.attempts, q.timestamp, q.letta_user_id, q.message_id, m.message,
                       p.platform, p.username, p.display_name
                FROM queue q LEFT JOIN messages m ON m.id = q.message_id LEFT JOIN platform_profiles p ON p.id = m.platform_profile_id
                WHERE (@status IS NULL OR q.status = @status) AND (@cursor IS NULL OR q.id < @cursor)
                ORDER BY q.id DESC LIMIT @take
                """, new { status, cursor, take = take + 1 })).AsList();
            var more = rows.Count > take;
            if (more) rows.RemoveAt(rows.Count - 1);
            return TypedResults.Ok(new BrocaQueuePage(rows, more ? rows[^1].Id : null));
        });
    }

    private static Task<IResult> Stats(string id, BrocaQueueServices s) =>
        BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
            TypedResults.Ok(await s.Broca.QueueStatsAsync(home, s.Clock.GetUtcNow(), s.Http.RequestAborted)));

    /// <summary>One pass over the queue: counts per status, the oldest pending timestamp, failures of the last hour.</summary>
    public static async Task<BrocaQueueStats> ReadStatsAsync(DbConnection broca, DateTimeOffset now)
    {
        // One pass and no GROUP BY (no sorter): Broca has no index on status, so every figure comes from the same scan.
        var row = await broca.QuerySingleAsync<StatsRow>("""
            SELECT COUNT(*) AS total, coalesce(SUM(status = 'pending'), 0) AS pending, coalesce(SUM(status = 'processing'), 0) AS processing,
                   coalesce(SUM(status = 'done'), 0) AS done, coalesce(SUM(status = 'completed'), 0) AS completed,
                   coalesce(SUM(status = 'failed'), 0) AS failed, coalesce(SUM(status = 'flushed'), 0) AS flushed,
                   MIN(CASE WHEN status = 'pending' THEN timestamp END) AS oldest,
                   coalesce(SUM(CASE WHEN status = 'failed' AND julianday(timestamp) >= julianday(@hourAgo) THEN 1 ELSE 0 END), 0) AS recent
            FROM queue
            """, new { hourAgo = Stamp(now.AddHours(-1)) });
        var counts = new Dictionary<string, long>
        {
            ["pending"] = row.Pending, ["processing"] = row.Processing, ["done"] = row.Done, ["completed"] = row.Completed,
            ["failed"] = row.Failed, ["flushed"] = row.Flushed,
        };
        return new BrocaQueueStats(counts, row.Total, row.Oldest, SecondsSince(row.Oldest, now), row.Recent);
    }

    public static long? SecondsSince(string? timestamp, DateTimeOffset now) =>
        timestamp is not null && TryParse(timestamp) is { } at ? Math.Max(0, (long)(now - at).TotalSeconds) : null;

    private sealed record StatsRow
    {
        public long Total { get; init; }
        public long Pending { get; init; }
        public long Processing { get; init; }
        public long Done { get; init; }
        public long Completed { get; init; }
        public long Failed { get; init; }
        public long Flushed { get; init; }
        public string? Oldest { get; init; }
        public long Recent { get; init; }
    }

    private static Task<IResult> Retry(string id, long qid, BrocaQueueServices s) =>
        BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            await using var broca = await s.Broca.OpenAsync(home, write: true, s.Http.RequestAborted);
            await using var tx = await broca.BeginTransactionAsync(s.Http.RequestAborted);
            var status = await broca.QuerySingleOrDefaultAsync<string?>("SELECT coalesce(status, '') FROM queue WHERE id = @qid", new { qid }, tx);
            if (status is null) return Problems.NotFound($"Queue item {qid} of agent '{id}'");
            if (status != "failed") return Problems.Conflict($"Queue item {qid} is {status}, not failed: only a failed item is retried.");
            await broca.ExecuteAsync("UPDATE queue SET status = 'pending', timestamp = @now WHERE id = @qid AND status = 'failed'",
                new { qid, now = Stamp(s.Clock.GetUtcNow()) }, tx);
            await tx.CommitAsync(s.Http.RequestAborted);
            s.Audit.Record(new AuditEvent("broca.queue.retried", "agent", id, new { queue_id = qid, count = 1 }), s.Http);
            return TypedResults.Ok(new BrocaQueueChange(1, 1, 0, true));
        });

    private static Task<IResult> RetryFailed(string id, BrocaQueueServices s) =>
        Batched(id, s, "failed", "pending", "broca.queue.retried_failed");

    private static Task<IResult> Flush(string id, BrocaQueueServices s) =>
        Batched(id, s, "pending", "flushed", "broca.queue.flushed");

    private static Task<IResult> Delete(string id, long qid, BrocaQueueServices s) =>
        BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            await using var broca = await s.Broca.OpenAsync(home, write: true, s.Http.RequestAborted);
            await using var tx = await broca.BeginTransactionAsync(s.Http.RequestAborted);
            var status = await broca.QuerySingleOrDefaultAsync<string?>("SELECT coalesce(status, '') FROM queue WHERE id = @qid", new { qid }, tx);
            if (status is null) return Problems.NotFound($"Queue item {qid} of agent '{id}'");
            if (status == "processing") return Problems.Conflict($"Broca is processing queue item {qid}: wait until it is done or failed.");
            await broca.ExecuteAsync("DELETE FROM queue WHERE id = @qid", new { qid }, tx);
            await tx.CommitAsync(s.Http.RequestAborted);
            s.Audit.Record(new AuditEvent("broca.queue.deleted", "agent", id, new { queue_id = qid, status, count = 1 }), s.Http);
            return TypedResults.NoContent();
        });

    /// <summary>
    /// Moves every item of status <paramref name="from"/> that exists now to <paramref name="to"/>, a batch per write
    /// transaction in id order, so Broca's writer waits at most one batch. A first batch that cannot get the lock is a
    /// 503 with nothing changed; a later one ends the run with what was done (complete false).
    /// </summary>
    private static Task<IResult> Batched(string id, BrocaQueueServices s, string from, string to, string action) =>
        BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            await using var broca = await s.Broca.OpenAsync(home, write: true, s.Http.RequestAborted);
            var max = await broca.ExecuteScalarAsync<long?>("SELECT MAX(id) FROM queue") ?? 0;
            var batch = Math.Max(1, s.Broca.Options.BatchSize);
            long after = 0, changed = 0, batches = 0, longest = 0;
            var complete = true;
            var now = Stamp(s.Clock.GetUtcNow());
            while (true)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    await using var tx = await broca.BeginTransactionAsync(s.Http.RequestAborted);
                    var last = await broca.ExecuteScalarAsync<long?>("""
                        SELECT MAX(id) FROM (SELECT id FROM queue WHERE id > @after AND id <= @max AND status = @from ORDER BY id LIMIT @batch)
                        """, new { after, max, from, batch }, tx);
                    if (last is null) break;
                    changed += await broca.ExecuteAsync(
                        $"UPDATE queue SET status = @to{(to == "pending" ? ", timestamp = @now" : "")} WHERE id > @after AND id <= @last AND status = @from",
                        new { to, now, after, last, from }, tx);
                    await tx.CommitAsync(s.Http.RequestAborted);
                    after = last.Value;
                    batches++;
                    longest = Math.Max(longest, watch.ElapsedMilliseconds);
                }
                catch (Microsoft.Data.Sqlite.SqliteException e) when (Data.DbErrors.IsBusy(e) && changed > 0)
                {
                    complete = false;
                    break;
                }
            }
            s.Audit.Record(new AuditEvent(action, "agent", id, new { from, to, count = changed, batches, complete }), s.Http);
            return TypedResults.Ok(new BrocaQueueChange(changed, batches, longest, complete));
        });

    /// <summary>A time as Broca writes it (SQLite's CURRENT_TIMESTAMP form, UTC).</summary>
    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static DateTimeOffset? TryParse(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
}

public sealed record BrocaQueueItem
{
    public long Id { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(BrocaUsersApi.MaxText)] public string? Status { get; init; }
    public long Attempts { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(BrocaUsersApi.MaxText)] public string? Timestamp { get; init; }
    public long? LettaUserId { get; init; }
    public long? MessageId { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(1_000_000)] public string? Message { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(BrocaUsersApi.MaxText)] public string? Platform { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(BrocaUsersApi.MaxText)] public string? Username { get; init; }
    [System.ComponentModel.DataAnnotations.MaxLength(BrocaUsersApi.MaxText)] public string? DisplayName { get; init; }
}

public sealed record BrocaQueuePage([property: MaxLength(BrocaQueueApi.MaxLimit)] List<BrocaQueueItem> Items, long? NextCursor);

/// <summary>Counts per status (every known status, 0 when none), the oldest pending item and the failures of the last hour.</summary>
public sealed record BrocaQueueStats(Dictionary<string, long> Counts, long Total, string? OldestPendingAt, long? OldestPendingSeconds, long FailedLastHour);

/// <summary>What a queue write changed: items, write transactions used, the longest one (ms), and whether it finished.</summary>
public sealed record BrocaQueueChange(long Changed, long Batches, long LongestBatchMs, bool Complete);

public sealed record BrocaQueueServices(DbConnection Db, BrocaDatabase Broca, AuditLog Audit, TimeProvider Clock, HttpContext Http)
{
    public static ValueTask<BrocaQueueServices> BindAsync(HttpContext http) => ValueTask.FromResult(new BrocaQueueServices(
        http.RequestServices.GetRequiredService<DbConnection>(), http.RequestServices.GetRequiredService<BrocaDatabase>(),
        http.RequestServices.GetRequiredService<AuditLog>(), http.RequestServices.GetRequiredService<TimeProvider>(), http));
}
