using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The bridge's rate limits, all ASP.NET Core rate limiters (System.Threading.RateLimiting) partitioned by a key the
/// caller chooses: one fixed window per minute for each keyed or polled action; for posting messages, a per-user
/// window for signed-in users, and for anonymous chat token buckets per client address and for everyone together,
/// both in messages per hour and in stored bytes per day. A burst up to a bucket's size passes; session ids play no part.
/// On PostgreSQL the counts are kept in the database (<see cref="SharedRateLimiter"/>), so the limits hold across all
/// instances behind one address; on SQLite (one process) they are kept in memory.
/// </summary>
public sealed class BridgeRateLimits : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const string Everyone = "*";

    private readonly Database _database;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, PartitionedRateLimiter<string>> _limiters;
    private readonly PartitionedRateLimiter<string> _anonymousMessages;
    private readonly PartitionedRateLimiter<string> _anonymousBytes;
    private readonly List<IDisposable> _owned = [];

    public BridgeRateLimits(IOptions<ChatBridgeOptions> options, Database database, TimeProvider clock)
    {
        _database = database;
        _clock = clock;
        var o = options.Value;
        PerMinute = new Dictionary<string, int>
        {
            ["messages"] = o.MessagesPerMinute,
            ["inbox"] = o.InboxPerMinute,
            ["outbox"] = o.OutboxPerMinute,
            ["responses"] = o.ResponsesPerMinute,
            ["sessions"] = o.SessionsPerMinute,
        };
        _limiters = PerMinute.ToDictionary(p => p.Key, p => Own(PerMinuteLimiter(p.Key, p.Value)));
        _wrongKeys = Own(PerMinuteLimiter("wrong-key", o.WrongKeysPerMinute));
        _anonymousMessages = Own(PartitionedRateLimiter.CreateChained(
            Own(Bucket("anonymous-messages", o.AnonymousMessagesPerHourPerAddress, TimeSpan.FromHours(1), address => address)),
            Own(Bucket("anonymous-messages", o.AnonymousMessagesPerHour, TimeSpan.FromHours(1), _ => Everyone))));
        _anonymousBytes = Own(PartitionedRateLimiter.CreateChained(
            Own(Bucket("anonymous-bytes", o.AnonymousBytesPerDayPerAddress, TimeSpan.FromDays(1), address => address)),
            Own(Bucket("anonymous-bytes", o.AnonymousBytesPerDay, TimeSpan.FromDays(1), _ => Everyone))));
    }

    private readonly PartitionedRateLimiter<string> _wrongKeys;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _keyRefusedUntil = new(StringComparer.Ordinal);

    /// <summary>
    /// Null when <paramref name="address"/> may present a key, else the whole seconds until it may again: once its
    /// wrong keys are spent, no key from it is even looked at, so a right guess cannot be told from a wrong one.
    /// </summary>
    public int? KeyRefused(string address)
    {
        if (!_keyRefusedUntil.TryGetValue(address, out var until)) return null;
        var left = until - _clock.GetUtcNow();
        if (left > TimeSpan.Zero) return Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
        _keyRefusedUntil.TryRemove(new KeyValuePair<string, DateTimeOffset>(address, until));
        return null;
    }

    /// <summary>Counts a wrong or missing key from <paramref name="address"/> (every action together); the seconds to wait once too many.</summary>
    public int? WrongKey(string address)
    {
        if (Wait(_wrongKeys, address, 1) is not { } wait) return null;
        if (_keyRefusedUntil.Count > 100_000)
            foreach (var (stale, until) in _keyRefusedUntil)
                if (until <= _clock.GetUtcNow()) _keyRefusedUntil.TryRemove(stale, out _);
        _keyRefusedUntil[address] = _clock.GetUtcNow().AddSeconds(wait);
        return wait;
    }

    /// <summary>Requests per minute for each limited action.</summary>
    public IReadOnlyDictionary<string, int> PerMinute { get; }

    /// <summary>Null when the request may go ahead, else the whole seconds to wait.</summary>
    public int? Acquire(string action, string partition) =>
        _limiters.TryGetValue(action, out var limiter) ? Wait(limiter, partition, 1) : null;

    /// <summary>A message to post: counted per signed-in user, or per client address and in total when anonymous.</summary>
    public int? AcquireMessage(long? userId, string address) =>
        userId is { } id ? Acquire("messages", $"user:{id}") : Wait(_anonymousMessages, address, 1);

    /// <summary>The bytes an anonymous message will store, counted per client address and in total per day.</summary>
    public int? AcquireAnonymousBytes(string address, int bytes) => Wait(_anonymousBytes, address, Math.Max(1, bytes));

    public void Dispose()
    {
        foreach (var limiter in _owned) limiter.Dispose();
    }

    private T Own<T>(T limiter) where T : IDisposable
    {
        _owned.Add(limiter);
        return limiter;
    }

    private static int? Wait(PartitionedRateLimiter<string> limiter, string partition, int permits)
    {
        using var lease = limiter.AttemptAcquire(partition, permits);
        if (lease.IsAcquired) return null;
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
        return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
    }

    /// <summary>The name of a limit's partition in the database's rate_limit_windows (PostgreSQL).</summary>
    private static string Shared(string limit, string partition) => $"chat:{limit}:{partition}";

    private PartitionedRateLimiter<string> PerMinuteLimiter(string action, int permits) =>
        PartitionedRateLimiter.Create<string, string>(key => _database.IsSqlite
            ? RateLimitPartition.GetFixedWindowLimiter(key,
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = Window, QueueLimit = 0 })
            : RateLimitPartition.Get(key, k => SharedRateLimiter.FixedWindow(_database, Shared(action, k), permits, Window, _clock)));

    /// <summary>A bucket of <paramref name="size"/> permits, refilled evenly over <paramref name="period"/>.</summary>
    private PartitionedRateLimiter<string> Bucket(string limit, int size, TimeSpan period, Func<string, string> partition) =>
        PartitionedRateLimiter.Create<string, string>(key => _database.IsSqlite
            ? RateLimitPartition.GetTokenBucketLimiter(partition(key), _ =>
            {
                // Whole tokens at the shortest period that refills the bucket in time (at least one token a second).
                var perSecond = size / period.TotalSeconds;
                var tokens = Math.Max(1, (int)Math.Ceiling(perSecond));
                return new TokenBucketRateLimiterOptions
                {
                    TokenLimit = size, TokensPerPeriod = tokens, ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, tokens / perSecond)),
                    QueueLimit = 0, AutoReplenishment = true,
                };
            })
            : RateLimitPartition.Get(partition(key), k => SharedRateLimiter.TokenBucket(_database, Shared(limit, k), size, period, _clock)));
}
