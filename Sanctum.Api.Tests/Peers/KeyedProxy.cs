using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// A peer behind a key, as SMCP is: a small Kestrel reverse proxy on a free loopback port that answers 401 unless the
/// request carries <c>Authorization: Bearer key</c> or <c>X-API-Key: key</c>, and otherwise streams the request to the
/// real server behind it and its answer back (SSE included).
/// </summary>
public sealed class KeyedProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };

    public string BaseUrl { get; }
    public int Refused;

    private KeyedProxy(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<KeyedProxy> StartAsync(string target, string key)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        KeyedProxy? proxy = null;
        app.Run(async http =>
        {
            var bearer = http.Request.Headers.Authorization.ToString();
            if (bearer != "Bearer " + key && http.Request.Headers["X-API-Key"] != key)
            {
                Interlocked.Increment(ref proxy!.Refused);
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            await proxy!.ForwardAsync(http, target);
        });
        await app.StartAsync();
        proxy = new KeyedProxy(app, app.Urls.First());
        return proxy;
    }

    private async Task ForwardAsync(HttpContext http, string target)
    {
        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), target + http.Request.Path + http.Request.QueryString);
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            body.Position = 0;
            request.Content = new StreamContent(body);
        }
        foreach (var (name, values) in http.Request.Headers)
        {
            if (name is "Host" or "Content-Length" or "Transfer-Encoding" or "Connection") continue;
            if (!request.Headers.TryAddWithoutValidation(name, values.ToArray())) request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
        }
        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        http.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (name is "Transfer-Encoding" or "Connection" or "Content-Length") continue;
            http.Response.Headers[name] = values.ToArray();
        }
        await http.Response.StartAsync();
        await using var stream = await response.Content.ReadAsStreamAsync(http.RequestAborted);
        var buffer = new byte[8192];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // the client went away (an SSE stream closed)
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
