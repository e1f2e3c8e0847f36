using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly.CircuitBreaker;
using Sanctum.Api.Data;
using Sanctum.Api.Peers;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Letta;

/// <summary>Where Letta is: the system settings letta_server_url and letta_server_password (decrypted only to send it).</summary>
public sealed record LettaLink(Uri BaseUrl, string? Password, TimeSpan Timeout);

/// <summary>
/// Letta's REST API under /v1 with <c>Authorization: Bearer &lt;server password&gt;</c>, through the letta HTTP client
/// (<see cref="PeerHttp"/>: reads retried with jitter, a circuit breaker per address, metrics), each call within the
/// link's timeout. Failures are <see cref="PeerFailure"/>s, as for SMCP.
/// </summary>
public sealed class LettaClient(IHttpClientFactory clients, Database database, SettingsCore settings, Secrets secrets)
{
    public const string UrlKey = "letta_server_url", PasswordKey = "letta_server_password", TimeoutKey = "letta_connection_timeout";
    public const int DefaultTimeoutSeconds = 30;

    /// <summary>A Letta response larger than this is refused rather than read into memory.</summary>
    public const int MaxResponseBytes = 8 * 1024 * 1024;

    public static string NotConfigured => $"Set the system setting {UrlKey} to Letta's http(s) URL first.";

    /// <summary>The link from the system settings, or null when letta_server_url is not set to an http(s) URL.</summary>
    public async Task<LettaLink?> LinkAsync(CancellationToken cancellationToken)
    {
        await using var db = database.Open();
        var url = (await settings.FindAsync(db, SettingAddress.System(UrlKey), cancellationToken: cancellationToken))?.Value;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return null;
        var stored = await settings.FindAsync(db, SettingAddress.System(PasswordKey), cancellationToken: cancellationToken);
        var password = stored is null || string.IsNullOrEmpty(stored.Value) ? null : stored.IsEncrypted ? secrets.Unprotect(stored.Value) : stored.Value;
        var timeout = (await settings.FindAsync(db, SettingAddress.System(TimeoutKey), cancellationToken: cancellationToken))?.Value;
        var seconds = ConfigValues.TryNumber(timeout, out var s) && s is >= 1 and <= 3600 ? s : DefaultTimeoutSeconds;
        return new LettaLink(uri, password, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>A path under /v1 with each segment escaped: <c>Path("agents", id)</c> is <c>/v1/agents/{id}</c>.</summary>
    public static string Path(params string[] segments) => "/v1/" + string.Join('/', segments.Select(Uri.EscapeDataString));

    public Task<JsonElement> GetAsync(LettaLink link, string path, CancellationToken cancellationToken) =>
        SendAsync(link, HttpMethod.Get, path, null, link.Timeout, cancellationToken);

    /// <summary>Sends one request to <paramref name="path"/> (under the base URL, starting /v1/); the answer's JSON.</summary>
    public async Task<JsonElement> SendAsync(LettaLink link, HttpMethod method, string path, object? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        using var request = new HttpRequestMessage(method, new Uri(link.BaseUrl, link.BaseUrl.AbsolutePath.TrimEnd('/') + path));
        if (link.Password is { Length: > 0 } password) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", password);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body);
        try
        {
            using var response = await clients.CreateClient(PeerHttp.Letta).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
                throw new PeerFailure(status switch
                {
                    401 or 403 => $"password rejected (HTTP {status})",
                    404 => "not found (HTTP 404)",
                    _ => $"HTTP {status}",
                }, off: status is 401 or 403 or >= 500, status: status);
            if (response.Content.Headers.ContentLength > MaxResponseBytes) throw new PeerFailure($"answered more than {MaxResponseBytes} bytes", off: false);
            await using var stream = await response.Content.ReadAsStreamAsync(limit.Token);
            using var bounded = new MemoryStream();
            var buffer = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(buffer, limit.Token)) > 0)
            {
                if (bounded.Length + read > MaxResponseBytes) throw new PeerFailure($"answered more than {MaxResponseBytes} bytes", off: false);
                bounded.Write(buffer, 0, read);
            }
            bounded.Position = 0;
            using var doc = await JsonDocument.ParseAsync(bounded, cancellationToken: limit.Token);
            return doc.RootElement.Clone();
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PeerFailure($"timed out after {timeout.TotalMilliseconds:0} ms", off: true, timedOut: true, inner: e);
        }
        catch (BrokenCircuitException e)
        {
            throw new PeerFailure("not called: too many recent failures (circuit open)", off: true, inner: e);
        }
        catch (HttpRequestException e)
        {
            throw new PeerFailure($"unreachable: {(e.InnerException ?? e).Message}", off: true, inner: e);
        }
        catch (JsonException e)
        {
            throw new PeerFailure("answered something that is not JSON", off: false, inner: e);
        }
    }

    public static long Since(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
