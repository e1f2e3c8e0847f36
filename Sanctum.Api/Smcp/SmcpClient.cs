using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Polly.CircuitBreaker;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Smcp;

/// <summary>A tool as an SMCP instance lists it.</summary>
public sealed record ListedTool(string Name, string? Description, JsonElement InputSchema);

/// <summary>What a listing found: the tools, and the problem the server's own <c>health</c> tool reports, if any.</summary>
public sealed record Listing(IReadOnlyList<ListedTool> Tools, string? HealthProblem);

/// <summary>
/// Talks MCP to SMCP instances with the official C# SDK over HTTP (streamable HTTP or SSE, detected by the SDK): one
/// session per operation, bounded by the instance's timeout, with its key as <c>Authorization: Bearer</c> and
/// <c>X-API-Key</c>.
/// </summary>
public sealed class SmcpClient(IHttpClientFactory clients, ILoggerFactory logs)
{
    public const string HealthTool = "health";

    /// <summary>Initializes a session and lists the tools; calls the server's <c>health</c> tool when it has one.</summary>
    public async Task<Listing> ListAsync(SmcpEndpoint endpoint, CancellationToken cancellationToken) =>
        await WithSessionAsync(endpoint, endpoint.TimeoutMs, async (client, token) =>
        {
            var tools = await client.ListToolsAsync(cancellationToken: token);
            var listed = tools.Select(t => new ListedTool(t.Name, t.Description, t.ProtocolTool.InputSchema.Clone())).ToList();
            string? problem = null;
            if (listed.Any(t => t.Name == HealthTool))
            {
                var health = await client.CallToolAsync(HealthTool, new Dictionary<string, object?>(), cancellationToken: token);
                problem = HealthProblem(health);
            }
            return new Listing(listed, problem);
        }, cancellationToken);

    /// <summary>Calls one tool within <paramref name="timeoutMs"/>; the result as the server sent it.</summary>
    public async Task<CallToolResult> CallAsync(SmcpEndpoint endpoint, string name, IReadOnlyDictionary<string, object?> arguments, int timeoutMs,
        CancellationToken cancellationToken) =>
        await WithSessionAsync(endpoint, timeoutMs, (client, token) => client.CallToolAsync(name, arguments, cancellationToken: token).AsTask(), cancellationToken);

    private async Task<T> WithSessionAsync<T>(SmcpEndpoint endpoint, int timeoutMs, Func<McpClient, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeoutMs);
        var headers = new Dictionary<string, string>();
        if (endpoint.ApiKey is { Length: > 0 } key)
        {
            headers["Authorization"] = "Bearer " + key;
            headers["X-API-Key"] = key;
        }
        var options = new HttpClientTransportOptions
        {
            Endpoint = endpoint.Url, TransportMode = HttpTransportMode.AutoDetect, Name = "smcp-" + endpoint.Id,
            ConnectionTimeout = TimeSpan.FromMilliseconds(timeoutMs), AdditionalHeaders = headers, MaxReconnectionAttempts = 0,
        };
        try
        {
            await using var transport = new HttpClientTransport(options, clients.CreateClient(PeerHttp.Smcp), logs, ownsHttpClient: true);
            await using var client = await McpClient.CreateAsync(transport,
                new McpClientOptions { ClientInfo = new Implementation { Name = "sanctum-api", Version = "1.0" } }, logs, limit.Token);
            return await work(client, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PeerFailure($"timed out after {timeoutMs} ms", off: true, timedOut: true);
        }
        catch (Exception e) when (Classify(e) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>Null for exceptions that are not the peer's fault (cancellation by our caller).</summary>
    private static PeerFailure? Classify(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case BrokenCircuitException:
                    return new PeerFailure("not called: too many recent failures (circuit open)", off: true, inner: e);
                case HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } h:
                    return new PeerFailure($"key rejected (HTTP {(int)h.StatusCode!})", off: true, inner: e);
                case HttpRequestException { StatusCode: { } status }:
                    return new PeerFailure($"HTTP {(int)status}", off: (int)status >= 500, inner: e);
                case HttpRequestException h:
                    return new PeerFailure($"unreachable: {(h.InnerException ?? h).Message}", off: true, inner: e);
                case McpProtocolException p:
                    return new PeerFailure($"MCP error {p.ErrorCode}: {p.Message}", off: false, inner: e);
            }
        }
        return e is McpException or IOException or JsonException or InvalidOperationException
            ? new PeerFailure($"MCP session failed: {e.Message}", off: true, inner: e)
            : null;
    }

    /// <summary>SMCP's health tool answers text JSON {status: healthy|unhealthy, ...}: anything but healthy is a problem.</summary>
    private static string? HealthProblem(CallToolResult result)
    {
        if (result.IsError == true) return "its health tool failed";
        var text = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text;
        if (text is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("status", out var s)
                && s.ValueKind == JsonValueKind.String && !string.Equals(s.GetString(), "healthy", StringComparison.OrdinalIgnoreCase)
                ? $"its health tool says {s.GetString()}"
                : null;
        }
        catch (JsonException)
        {
            return null; // a health tool of another shape: nothing to read
        }
    }

    public static long Since(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
