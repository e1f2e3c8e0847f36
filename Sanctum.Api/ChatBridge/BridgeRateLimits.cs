using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.ChatBridge;

/// <summary>One partitioned fixed-window limiter per rate-limited action; the caller chooses the partition key.</summary>
public sealed class BridgeRateLimits : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, PartitionedRateLimiter<string>> _limiters;

    public BridgeRateLimits(IOptions<ChatBridgeOptions> options)
    {
        var o = options.Value;
        PerMinute = new Dictionary<string, int>
        {
            ["messages"] = o.MessagesPerMinute,
            ["inbox"] = o.InboxPerMinute,
            ["outbox"] = o.OutboxPerMinute,
            ["responses"] = o.ResponsesPerMinute,
            ["sessions"] = o.SessionsPerMinute,
        };
        _limiters = PerMinute.ToDictionary(p => p.Key, p => Create(p.Value));
    }

    /// <summary>Requests per minute for each limited action.</summary>
    public IReadOnlyDictionary<string, int> PerMinute { get; }

    /// <summary>Null when the request may go ahead, else the whole seconds to wait.</summary>
    public int? Acquire(string action, string partition)
    {
        if (!_limiters.TryGetValue(action, out var limiter)) return null;
        using var lease = limiter.AttemptAcquire(partition);
        if (lease.IsAcquired) return null;
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
        return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values) limiter.Dispose();
    }

    private static PartitionedRateLimiter<string> Create(int permits) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = Window, QueueLimit = 0 }));
}
