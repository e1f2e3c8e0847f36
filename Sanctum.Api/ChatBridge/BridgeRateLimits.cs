using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The bridge's rate limits, all ASP.NET Core rate limiters counted where <see cref="RateLimits"/> says (memory on
/// SQLite, the database on PostgreSQL). The keyed and polled actions take a named policy each (one fixed window per
/// minute, per key or per client address); posting a message is counted in its handler, because the protocol checks
/// its limit after the anonymous-chat switch and before the role and the body: a per-user window for signed-in users,
/// and for anonymous chat token buckets per client address and for everyone together, both in messages per hour and
/// in stored bytes per day. A burst up to a bucket's size passes; session ids play no part. Wrong keys are counted per
/// client address over every keyed action.
/// </summary>
public sealed class BridgeRateLimits : IDisposable
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public const string Inbox = "bridge-inbox", Outbox = "bridge-outbox", Sessions = "bridge-sessions", Responses = "bridge-responses";
    private const string Everyone = "*";

    private readonly TimeProvider _clock;
    private readonly PartitionedRateLimiter<string> _messages, _wrongKeys, _anonymousMessages, _anonymousBytes;
    private readonly List<IDisposable> _owned = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _keyRefusedUntil = new(StringComparer.Ordinal);

    public BridgeRateLimits(IOptions<ChatBridgeOptions> options, Database database, TimeProvider clock)
    {
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
        PartitionedRateLimiter<string> Limiter(Func<string, RateLimitPartition<string>> partition) => Own(PartitionedRateLimiter.Create(partition));
        _messages = Limiter(key => RateLimits.FixedWindow(database, clock, "chat:messages:", key, o.MessagesPerMinute, Window));
        _wrongKeys = Limiter(key => RateLimits.FixedWindow(database, clock, "chat:wrong-key:", key, o.WrongKeysPerMinute, Window));
        PartitionedRateLimiter<string> Buckets(string limit, int perAddress, int total, TimeSpan period) => Own(PartitionedRateLimiter.CreateChained(
            Limiter(address => RateLimits.TokenBucket(database, clock, $"chat:{limit}:", address, perAddress, period)),
            Limiter(_ => RateLimits.TokenBucket(database, clock, $"chat:{limit}:", Everyone, total, period))));
        _anonymousMessages = Buckets("anonymous-messages", o.AnonymousMessagesPerHourPerAddress, o.AnonymousMessagesPerHour, TimeSpan.FromHours(1));
        _anonymousBytes = Buckets("anonymous-bytes", o.AnonymousBytesPerDayPerAddress, o.AnonymousBytesPerDay, TimeSpan.FromDays(1));
    }

    /// <summary>The named policies of the keyed actions (per key) and of responses (per client address).</summary>
    public static void AddPolicies(RateLimiterOptions limiter, ChatBridgeOptions o, Database database, TimeProvider clock)
    {
        void Add(string policy, string action, int permits, Func<HttpContext, string> partition) =>
            limiter.AddPolicy(policy, RateLimits.Policy(http => RateLimits.FixedWindow(database, clock, $"chat:{action}:", partition(http), permits, Window), Window,
                (http, seconds) => BridgeResults.RateLimited(http, seconds).ExecuteAsync(http)));
        Add(Inbox, "inbox", o.InboxPerMinute, http => BridgeCaller.Of(http.User).Partition);
        Add(Outbox, "outbox", o.OutboxPerMinute, http => BridgeCaller.Of(http.User).Partition);
        Add(Sessions, "sessions", o.SessionsPerMinute, http => BridgeCaller.Of(http.User).Partition);
        // Per client address: a client that invents a new session id for every poll still has one budget.
        Add(Responses, "responses", o.ResponsesPerMinute, http => $"address:{Caller.Address(http)}");
    }

    /// <summary>Requests per minute for each limited action.</summary>
    public IReadOnlyDictionary<string, int> PerMinute { get; }

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

    /// <summary>A message to post: counted per signed-in user, or per client address and in total when anonymous.</summary>
    public int? AcquireMessage(long? userId, string address) =>
        userId is { } id ? Wait(_messages, $"user:{id}", 1) : Wait(_anonymousMessages, address, 1);

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
        return lease.IsAcquired ? null : RateLimits.RetryAfterSeconds(lease, Window);
    }
}
