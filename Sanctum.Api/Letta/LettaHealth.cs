using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Letta;

/// <summary>Letta's health call, kept in peer_links; also the <c>letta</c> health check type.</summary>
public sealed class LettaHealth(LettaClient letta, Database database, TimeProvider clock) : IPeerProbe
{
    public string Type => "letta";

    /// <summary>Calls /v1/health/ and keeps the outcome; null when Letta is not configured.</summary>
    public async Task<ProbeResult?> CheckAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (await letta.LinkAsync(cancellationToken) is not { } link) return null;
        var started = Stopwatch.GetTimestamp();
        ProbeResult result;
        string? version = null;
        try
        {
            var health = await letta.SendAsync(link, HttpMethod.Get, "/v1/health/", null, timeout ?? link.Timeout, cancellationToken);
            version = LettaIds.Text(health, "version");
            result = new ProbeResult(true, LettaClient.Since(started), null);
        }
        catch (PeerFailure failure)
        {
            result = new ProbeResult(false, LettaClient.Since(started), HealthProbe.Clip(failure.Message), Off: failure.Off);
        }
        var now = Timestamp.From(clock.GetUtcNow());
        await using var db = database.Open();
        // Kept even when the caller has gone: the outcome of a call that was made.
        await db.ExecuteAsync(new CommandDefinition("""
            INSERT INTO peer_links (peer, last_checked_at, last_ok, last_success_at, version, latency_ms, error)
            VALUES ('letta', @now, @ok, CASE WHEN @ok THEN @now END, @version, @latency, @error)
            ON CONFLICT (peer) DO UPDATE SET last_checked_at = excluded.last_checked_at, last_ok = excluded.last_ok,
                last_success_at = coalesce(excluded.last_success_at, peer_links.last_success_at),
                version = coalesce(excluded.version, peer_links.version), latency_ms = excluded.latency_ms, error = excluded.error
            """, new { now, ok = result.Ok, version = version is { Length: > 100 } ? version[..100] : version, latency = result.LatencyMs, error = result.Error },
            cancellationToken: CancellationToken.None));
        return result;
    }

    // The check runner bounds the call with the check's own timeout (its token), not the link's.
    async Task<ProbeResult> IPeerProbe.RunAsync(long instanceId, CancellationToken cancellationToken) =>
        await CheckAsync(cancellationToken, Timeout.InfiniteTimeSpan)
        ?? new ProbeResult(false, 0, $"The system setting {LettaClient.UrlKey} is not an http(s) URL.", Off: true);
}

public static class LettaSetup
{
    public static IServiceCollection AddLetta(this IServiceCollection services)
    {
        services.AddSingleton<LettaClient>();
        services.AddSingleton<LettaHealth>();
        services.AddSingleton<IPeerProbe>(sp => sp.GetRequiredService<LettaHealth>());
        return services;
    }
}
