using System.Threading.RateLimiting;
using Dapper;

namespace Sanctum.Api.Data;

/// <summary>
/// A fixed-window rate limiter whose count lives in the database (table rate_limit_windows, Phase 2), so that every
/// instance on one PostgreSQL database counts against the same limit. Windows are aligned to multiples of their
/// length since the Unix epoch, so all instances agree where one ends. One upsert per attempt: meant for rare,
/// costly requests such as sign-ins. On SQLite (one process) the in-memory limiters are used instead.
/// </summary>
public sealed class SharedWindowLimiter(Database database, string bucket, int permitLimit, TimeSpan window, TimeProvider clock) : RateLimiter
{
    private const string CountSql = """
        INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES (@bucket, @start, 1)
        ON CONFLICT (bucket) DO UPDATE SET
            hits = CASE WHEN rate_limit_windows.window_start = excluded.window_start THEN rate_limit_windows.hits + 1 ELSE 1 END,
            window_start = excluded.window_start
        RETURNING hits
        """;

    private long _successful, _failed;

    public override TimeSpan? IdleDuration => TimeSpan.Zero;

    public override RateLimiterStatistics? GetStatistics() =>
        new() { TotalSuccessfulLeases = Interlocked.Read(ref _successful), TotalFailedLeases = Interlocked.Read(ref _failed) };

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        var now = clock.GetUtcNow();
        var length = Math.Max(1, window.Ticks);
        var start = new DateTimeOffset(now.UtcTicks - now.UtcTicks % length, TimeSpan.Zero);
        long hits;
        using (var db = database.Open())
        // Read committed: the upsert locks the bucket's row, so concurrent attempts count one after the other.
        using (var tx = db.BeginTransaction(System.Data.IsolationLevel.ReadCommitted))
        {
            hits = db.ExecuteScalar<long>(CountSql, new { bucket, start = Timestamp.From(start) }, tx);
            tx.Commit();
        }
        if (hits <= permitLimit)
        {
            Interlocked.Increment(ref _successful);
            return Lease.Granted;
        }
        Interlocked.Increment(ref _failed);
        return new Lease(start + window - now);
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
