using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly.CircuitBreaker;
using Sanctum.Api.Config;
using Sanctum.Api.Data;
using Sanctum.Api.Peers;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Letta;

/// <summary>Where Letta is: the system settings letta_server_url and letta_server_password (decrypted only to send it).</summary>
public sealed record LettaLink(Uri BaseUrl, string? Password, TimeSpan Timeout);

/// <summary>Why a call to Letta failed, for an operator; <see cref="Off"/> when Letta is unusable (refused, timed out, password rejected).</summary>
public sealed class LettaFailure(string message, bool off, int? status = null) : Exception(message)
{
    public bool Off { get; } = off;
    public int? Status { get; } = status;
}

/// <summary>
/// Letta's REST API under /v1 with <c>Authorization: Bearer &lt;server password&gt;</c>, through the letta HTTP client
/// (<see cref="PeerHttp"/>: reads retried with jitter, a circuit breaker, metrics), each call within the timeout.
/// </summary>
public sealed class LettaClient(IHttpClientFactory clients, Database database, SettingsCore settings, Secrets secrets)
{
    public const string UrlKey = "letta_server_url", PasswordKey = "letta_server_password", TimeoutKey = "letta_connection_timeout";
    public const int DefaultTimeoutSeconds = 30;

    private static readonly JsonSerializerOptions Wire = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The link from the system settings, or null when letta_server_url is not set to an http(s) URL.</summary>
    public LettaLink? Link()
    {
        using var db = database.Open();
        var url = settings.Find(db, SettingAddress.System(UrlKey))?.Value;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return null;
        var stored = settings.Find(db, SettingAddress.System(PasswordKey));
        var password = stored is null || string.IsNullOrEmpty(stored.Value) ? null : stored.IsEncrypted ? secrets.Unprotect(stored.Value) : stored.Value;
        var seconds = double.TryParse(settings.Find(db, SettingAddress.System(TimeoutKey))?.Value, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var s) && s is >= 1 and <= 3600 ? s : DefaultTimeoutSeconds;
        return new LettaLink(uri, password, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>Sends one request to <paramref name="path"/> (under the base URL, starting /v1/); the answer's JSON.</summary>
    public async Task<JsonElement> SendAsync(LettaLink link, HttpMethod method, string path, object? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        using var request = new HttpRequestMessage(method, new Uri(link.BaseUrl, link.BaseUrl.AbsolutePath.TrimEnd('/') + path));
        if (link.Password is { Length: > 0 } password) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", password);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null) request.Content = System.Net.Http.Json.JsonContent.Create(body, options: Wire);
        try
        {
            using var response = await clients.CreateClient(PeerHttp.Letta).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                throw new LettaFailure(status is 401 or 403 ? $"password rejected (HTTP {status})" : $"HTTP {status}",
                    off: status is 401 or 403 or >= 500, status);
            }
            await using var stream = await response.Content.ReadAsStreamAsync(limit.Token);
            using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: limit.Token);
            return doc.RootElement.Clone();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LettaFailure($"timed out after {timeout.TotalMilliseconds:0} ms", off: true);
        }
        catch (BrokenCircuitException)
        {
            throw new LettaFailure("not called: too many recent failures (circuit open)", off: true);
        }
        catch (HttpRequestException e)
        {
            throw new LettaFailure($"unreachable: {(e.InnerException ?? e).Message}", off: true);
        }
        catch (JsonException)
        {
            throw new LettaFailure("answered something that is not JSON", off: false);
        }
    }

    public static long Since(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
