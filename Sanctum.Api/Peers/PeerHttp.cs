using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Sanctum.Api.Telemetry;

namespace Sanctum.Api.Peers;

/// <summary>
/// The HTTP clients for the peers (SMCP, Letta): each request is measured (peer, outcome, duration), a circuit breaker
/// per peer address stops calling a dead peer for a while, and only Letta's idempotent reads (GET) are retried, with
/// jittered backoff. Time limits are the callers' (each call's own CancellationToken), so no request thread waits on a
/// dead peer for longer than its timeout.
/// </summary>
public static class PeerHttp
{
    public const string Smcp = "smcp", Letta = "letta";

    public static IServiceCollection AddPeerClients(this IServiceCollection services)
    {
        // No redirects followed and no cookies: a peer answers for itself.
        static SocketsHttpHandler Primary() => new() { AllowAutoRedirect = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(10) };

        services.AddHttpClient(Smcp)
            .ConfigurePrimaryHttpMessageHandler(Primary)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan) // the MCP SSE stream stays open
            .AddHttpMessageHandler(sp => new PeerMetricsHandler(Smcp, sp.GetRequiredService<SanctumMetrics>()))
            .AddResilienceHandler("smcp", pipeline => pipeline.AddCircuitBreaker(Breaker()))
            .SelectPipelineByAuthority();

        services.AddHttpClient(Letta)
            .ConfigurePrimaryHttpMessageHandler(Primary)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddHttpMessageHandler(sp => new PeerMetricsHandler(Letta, sp.GetRequiredService<SanctumMetrics>()))
            .AddResilienceHandler("letta", pipeline => pipeline
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 2, Delay = TimeSpan.FromMilliseconds(200), BackoffType = DelayBackoffType.Exponential, UseJitter = true,
                    ShouldHandle = args => ValueTask.FromResult(
                        args.Context.GetRequestMessage()?.Method == HttpMethod.Get
                        && (args.Outcome.Exception is HttpRequestException
                            || args.Outcome.Result is { StatusCode: HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout })),
                })
                .AddCircuitBreaker(Breaker()))
            .SelectPipelineByAuthority();
        return services;
    }

    // Five failures in 30 s (at least half of the calls) open the circuit for 15 s: calls fail at once meanwhile.
    private static HttpCircuitBreakerStrategyOptions Breaker() => new()
    {
        FailureRatio = 0.5, MinimumThroughput = 5, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(15),
    };
}

/// <summary>Records every outbound request of one peer client in <see cref="SanctumMetrics.PeerCall"/>.</summary>
public sealed class PeerMetricsHandler(string peer, SanctumMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "refused";
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            outcome = (int)response.StatusCode switch { < 400 => "ok", < 500 => "http_4xx", _ => "http_5xx" };
            return response;
        }
        catch (OperationCanceledException)
        {
            outcome = "timeout";
            throw;
        }
        catch (BrokenCircuitException)
        {
            outcome = "circuit_open";
            throw;
        }
        finally
        {
            metrics.PeerCall(peer, outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
