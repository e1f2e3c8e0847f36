using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Auth;

/// <summary>
/// bcrypt at cost 12 keeps a core busy for a quarter of a second. Endpoints that hash or verify passwords take a
/// permit from one shared <see cref="ConcurrencyLimiter"/> first, so a burst of logins queues (asynchronously,
/// holding no thread) instead of taking every core from the rest of the API. The per-address login limit still
/// applies before this one; a request that finds the queue full gets 503 with Retry-After.
/// </summary>
public sealed class PasswordHashingLimit(IOptions<SanctumOptions> options) : IDisposable
{
    public ConcurrencyLimiter Limiter { get; } = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.PasswordHashingConcurrency is > 0 and var n ? n : Math.Max(1, Environment.ProcessorCount - 1),
        QueueLimit = options.Value.PasswordHashingQueueLimit,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public void Dispose() => Limiter.Dispose();
}

public static class PasswordHashingLimitExtensions
{
    public static TBuilder LimitPasswordHashing<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            using var lease = await http.RequestServices.GetRequiredService<PasswordHashingLimit>().Limiter.AcquireAsync(1, http.RequestAborted);
            if (!lease.IsAcquired)
            {
                http.Response.Headers.RetryAfter = "1";
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable",
                    detail: "Too many sign-ins are being checked at once; try again in a second.");
            }
            return await next(context);
        });
}
