using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sanctum.Api.Tests.Alerts;

/// <summary>
/// A real Kestrel listener on 127.0.0.1 that receives alert webhooks and checks each one's signature the way a receiver
/// would: HMAC-SHA256 of "&lt;X-Sanctum-Timestamp&gt;.&lt;body&gt;" with the shared secret. It answers with the next of
/// <see cref="Answers"/> (then 200), or, with <see cref="NeverAnswer"/>, holds every request open.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    public sealed record Received(string Body, string? Timestamp, string? Signature, bool SignatureValid, JsonElement Json);

    public WebhookReceiver(string secret)
    {
        Secret = secret;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/hook", async (HttpContext http) =>
        {
            if (NeverAnswer)
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { });
                return Results.StatusCode(599);
            }
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var timestamp = http.Request.Headers["X-Sanctum-Timestamp"].ToString();
            var signature = http.Request.Headers["X-Sanctum-Signature"].ToString();
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Secret),
                System.Text.Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
            var valid = CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(signature));
            Requests.Enqueue(new Received(body, timestamp, signature, valid, JsonDocument.Parse(body).RootElement.Clone()));
            return Results.StatusCode(Answers.TryDequeue(out var status) ? status : 200);
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/hook";
    }

    public string Secret { get; }
    public string Url { get; }
    public bool NeverAnswer { get; set; }
    public ConcurrentQueue<int> Answers { get; } = new();
    public ConcurrentQueue<Received> Requests { get; } = new();

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
