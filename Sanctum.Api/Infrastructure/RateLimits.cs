using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Sanctum.Api.Data;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// The rate limiter's wiring and the one place that decides where a limit's counts live: in memory on SQLite (one
/// process), in the database on PostgreSQL (<see cref="SharedRateLimiter"/>), so that a limit holds across all instances
/// behind one address. Features name their policies (sign-in, the chat bridge's actions) with <see cref="Policy"/>.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddSanctumRateLimits(this IServiceCollection services) => services.AddRateLimiter(_ => { });

    /// <summary>At most <paramref name="permits"/> per <paramref name="window"/> for <paramref name="key"/>; shared as bucket <paramref name="prefix"/>+key.</summary>
    public static RateLimitPartition<string> FixedWindow(Database database, TimeProvider clock, string prefix, string key, int permits, TimeSpan window) =>
        database.IsSqlite
            ? RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 })
            : RateLimitPartition.Get(key, k => SharedRateLimiter.FixedWindow(database, prefix + k, permits, window, clock));

    /// <summary>A bucket of <paramref name="size"/> permits for <paramref name="key"/>, refilled evenly over <paramref name="period"/>; a burst up to its size passes.</summary>
    public static RateLimitPartition<string> TokenBucket(Database database, TimeProvider clock, string prefix, string key, int size, TimeSpan period) =>
        database.IsSqlite
            ? RateLimitPartition.GetTokenBucketLimiter(key, _ =>
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
            : RateLimitPartition.Get(key, k => SharedRateLimiter.TokenBucket(database, prefix + k, size, period, clock));

    /// <summary>Whole seconds until a refused <paramref name="lease"/> may be tried again (<paramref name="fallback"/> when it does not say).</summary>
    public static int RetryAfterSeconds(RateLimitLease lease, TimeSpan fallback)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : fallback;
        return Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
    }

    /// <summary>
    /// A named policy: <paramref name="partition"/> chooses the limit for a request, and a refused request gets a
    /// Retry-After header and whatever <paramref name="refuse"/> writes (given the seconds to wait).
    /// </summary>
    public static IRateLimiterPolicy<string> Policy(Func<HttpContext, RateLimitPartition<string>> partition, TimeSpan window,
        Func<HttpContext, int, Task> refuse) => new NamedPolicy(partition, window, refuse);

    private sealed class NamedPolicy(Func<HttpContext, RateLimitPartition<string>> partition, TimeSpan window, Func<HttpContext, int, Task> refuse)
        : IRateLimiterPolicy<string>
    {
        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => partition(httpContext);

        public Func<OnRejectedContext, CancellationToken, ValueTask> OnRejected => async (context, _) =>
        {
            var seconds = RetryAfterSeconds(context.Lease, window);
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await refuse(context.HttpContext, seconds);
        };
    }
}
