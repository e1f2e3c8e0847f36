using System.Diagnostics;
using System.Net.Sockets;

namespace Sanctum.Api.Health;

/// <summary>
/// What one probe found: whether it passed, how long it took, and why it failed. <c>warning</c>: it answered, but
/// reports a problem (the instance is Degraded); <c>off</c>: a failure that makes the instance Off at once (refused,
/// timed out, key rejected) rather than after several failures in a row; a check that judges more than up or down
/// (broca) names the status itself and the figures behind it.
/// </summary>
public sealed record ProbeResult(
    bool Ok, long LatencyMs, [property: System.ComponentModel.DataAnnotations.MaxLength(HealthProbe.MaxError)] string? Error,
    [property: System.ComponentModel.DataAnnotations.MaxLength(HealthProbe.MaxError)] string? Warning = null, bool Off = false,
    [property: Infrastructure.OneOf(typeof(HealthStatus))] string? Status = null, [property: System.ComponentModel.DataAnnotations.MaxLength(HealthProbe.MaxError)] string? Reason = null);

/// <summary>A check type that talks to a peer with its own protocol (mcp, letta); registered once per type.</summary>
public interface IPeerProbe
{
    string Type { get; }

    /// <summary>Runs the check of instance <paramref name="instanceId"/>; must return within <paramref name="cancellationToken"/>'s time.</summary>
    Task<ProbeResult> RunAsync(long instanceId, CancellationToken cancellationToken);
}

/// <summary>Runs one health check against its target: an HTTP GET, a TCP connect, a look at a Broca queue or a peer's probe, bounded by the check's timeout.</summary>
public sealed class HealthProbe(IHttpClientFactory clients, Broca.BrocaQueueCheck broca, IEnumerable<IPeerProbe> peers)
{
    private readonly Dictionary<string, IPeerProbe> _peers = peers.ToDictionary(p => p.Type, StringComparer.Ordinal);

    public const string HttpClientName = "health-checks";
    public const int MaxError = 500;

    public async Task<ProbeResult> RunAsync(HealthCheckSpec check, long instanceId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(check.TimeoutMs);
        var watch = Stopwatch.StartNew();
        if (check.Type == "broca") return await broca.RunAsync(check, watch, timeout.Token);
        try
        {
            if (_peers.TryGetValue(check.Type, out var peer))
            {
                var found = await peer.RunAsync(instanceId, timeout.Token);
                return found with { LatencyMs = watch.ElapsedMilliseconds };
            }
            var error = check.Type == "tcp" ? await ConnectAsync(check, timeout.Token) : await GetAsync(check, timeout.Token);
            return new ProbeResult(error is null, watch.ElapsedMilliseconds, error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, watch.ElapsedMilliseconds, $"No answer within {check.TimeoutMs} ms.", Off: Peer(check));
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
        {
            var message = e.InnerException is SocketException inner ? inner.Message : e.Message;
            return new ProbeResult(false, watch.ElapsedMilliseconds, Clip(message), Off: Peer(check));
        }
    }

    private bool Peer(HealthCheckSpec check) => _peers.ContainsKey(check.Type);

    public static string Clip(string message) => message.Length > MaxError ? message[..MaxError] : message;

    private static async Task<string?> ConnectAsync(HealthCheckSpec check, CancellationToken cancellationToken)
    {
        var (host, port) = check.HostAndPort();
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        return null;
    }

    private async Task<string?> GetAsync(HealthCheckSpec check, CancellationToken cancellationToken)
    {
        using var response = await clients.CreateClient(HttpClientName)
            .GetAsync(check.Target!, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        var ok = check.ExpectStatus is { } expected ? status == expected : status is >= 200 and < 400;
        return ok ? null : check.ExpectStatus is { } e ? $"HTTP {status}, expected {e}." : $"HTTP {status}.";
    }
}
