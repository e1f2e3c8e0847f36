using System.Data.Common;
using System.Threading.RateLimiting;
using Dapper;

namespace Sanctum.Api.Data;

/// <summary>
/// A rate limiter whose state lives in the database (table rate_limit_windows, Phase 2), so that every instance on one
/// PostgreSQL database counts against the same limit. One statement per attempt, in a short read-committed
/// transaction (the upsert locks the bucket's row, so concurrent attempts count one after the other). Two kinds:
/// <list type="bullet">
/// <item><see cref="FixedWindow"/>: a count per window, windows aligned to multiples of their length since the Unix
///   epoch so all instances agree where one ends (the sign-in limit, the bridge's per-minute limits).</item>
/// <item><see cref="TokenBucket"/>: a bucket refilled evenly over a period, kept as its theoretical arrival time (the
///   generic cell rate algorithm: the row's <c>hits</c> holds, in ticks, when the bucket will be full again); a refused
///   attempt takes nothing (anonymous chat).</item>
/// </list>
/// On SQLite (one process) the in-memory limiters of System.Threading.RateLimiting are used instead.
/// </summary>
public sealed class SharedRateLimiter : RateLimiter
{
    private const string WindowSql = """
        INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES (@bucket, @start, @permits)
        ON CONFLICT (bucket) DO UPDATE SET
            hits = CASE WHEN rate_limit_windows.window_start = excluded.window_start THEN rate_limit_windows.hits + excluded.hits ELSE excluded.hits END,
            window_start = excluded.window_start
        RETURNING hits
        """;

    // Taken only when the bucket, filled up to now, still holds the permits: the new arrival time stays within one
    // period of now. No row comes back when it does not (the conflicting row is locked all the same).
    private const string BucketSql = """
        INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES (@bucket, @start, @now + @cost)
        ON CONFLICT (bucket) DO UPDATE SET
            hits = GREATEST(rate_limit_windows.hits, @now) + @cost,
            window_start = excluded.window_start
        WHERE GREATEST(rate_limit_windows.hits, @now) + @cost - @now <= @period
        RETURNING hits
        """;

    private const string FullAtSql = "SELECT hits FROM rate_limit_windows WHERE bucket = @bucket";

    private readonly Database _database;
    private readonly TimeProvider _clock;
    private readonly Func<DbConnection, DbTransaction, int, DateTimeOffset, TimeSpan?> _attempt;
    private long _successful, _failed, _lastUsed;

    private SharedRateLimiter(Database database, TimeProvider clock, Func<DbConnection, DbTransaction, int, DateTimeOffset, TimeSpan?> attempt)
    {
        _database = database;
        _clock = clock;
        _attempt = attempt;
        _lastUsed = clock.GetTimestamp();
    }

    /// <summary>At most <paramref name="permitLimit"/> permits per aligned window of <paramref name="window"/>.</summary>
    public static SharedRateLimiter FixedWindow(Database database, string bucket, int permitLimit, TimeSpan window, TimeProvider clock) =>
        new(database, clock, (db, tx, permits, now) =>
        {
            var length = Math.Max(1, window.Ticks);
            var start = new DateTimeOffset(now.UtcTicks - now.UtcTicks % length, TimeSpan.Zero);
            var hits = db.ExecuteScalar<long>(WindowSql, new { bucket, start = Timestamp.From(start), permits = (long)permits }, tx);
            return hits <= permitLimit ? null : start + window - now;
        });

    /// <summary>A bucket of <paramref name="size"/> permits that refills evenly over <paramref name="period"/>; a burst up to its size passes.</summary>
    public static SharedRateLimiter TokenBucket(Database database, string bucket, int size, TimeSpan period, TimeProvider clock) =>
        new(database, clock, (db, tx, permits, now) =>
        {
            var perPermit = (double)period.Ticks / Math.Max(1, size);
            // More permits than the bucket holds can never pass (the in-memory limiter throws): wait a whole period.
            if (permits > size) return period;
            var cost = (long)Math.Ceiling(permits * perPermit);
            var args = new { bucket, start = Timestamp.From(now), now = now.UtcTicks, cost, period = period.Ticks };
            if (db.ExecuteScalar<long?>(BucketSql, args, tx) is not null) return null;
            var fullAt = db.ExecuteScalar<long>(FullAtSql, args, tx);
            return TimeSpan.FromTicks(Math.Max(1, Math.Max(fullAt, now.UtcTicks) + cost - period.Ticks - now.UtcTicks));
        });

    /// <summary>Since the last attempt: lets a partitioned limiter drop idle partitions (their state stays in the database).</summary>
    public override TimeSpan? IdleDuration => _clock.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() =>
        new() { TotalSuccessfulLeases = Interlocked.Read(ref _successful), TotalFailedLeases = Interlocked.Read(ref _failed) };

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        Interlocked.Exchange(ref _lastUsed, _clock.GetTimestamp());
        var now = _clock.GetUtcNow();
        TimeSpan? wait;
        using (var db = _database.Open())
        using (var tx = db.BeginTransaction(System.Data.IsolationLevel.ReadCommitted))
        {
            wait = _attempt(db, tx, Math.Max(1, permitCount), now);
            tx.Commit();
        }
        if (wait is null)
        {
            Interlocked.Increment(ref _successful);
            return Lease.Granted;
        }
        Interlocked.Increment(ref _failed);
        return new Lease(wait);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(null);

        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
