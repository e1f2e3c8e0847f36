using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>
/// Issue 23 item 10: a slowly trickled body held a bridge request, and with it the maintenance gate a restore waits
/// on. The caller's role is checked before the body is read, and a body gets a read deadline (408 after it). The
/// bodies here send their first bytes and then stall; the server is Kestrel on a free port.
/// </summary>
public class BridgeBodyDeadlineTests
{
    [Test]
    public async Task AViewersMessageIsRefusedWithoutWaitingForItsBody()
    {
        await using var app = OnKestrel(new SanctumApplication());
        var viewer = await app.CreateClientForRoleAsync("viewer");
        // On the old order the server waited for the body, which never came.
        var (status, body) = await StalledPostAsync(app, "/api/v1/messages", viewer.DefaultRequestHeaders.Authorization!.ToString(),
            """{"session_id":"session_slow","message":"hel""").WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That((status, body), Is.EqualTo((403, "This account may not chat")));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions"), Is.Zero);
    }

    [TestCase("/api/v1/messages")]
    [TestCase("/api/v1/?action=outbox")]
    [TestCase("/api/v1/config")]
    public async Task ABodyNotSentWithinTheDeadlineIs408AndChangesNothing(string path)
    {
        // A real second: Kestrel's own minimum data rate would end the request only after its 5 s grace period.
        await using var app = OnKestrel(new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:BodyReadSeconds"] = "1" }));
        var authorization = path.Contains("messages") ? (await app.CreateClientForRoleAsync("user")).DefaultRequestHeaders.Authorization!.ToString()
            : "Bearer " + app.BridgeKey(path.Contains("config") ? "chat_admin_key" : "chat_api_key");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (status, error) = await StalledPostAsync(app, path, authorization, """{"session_id":"session_slow","response":"hel""")
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That((status, error), Is.EqualTo((408, "Request timeout")));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "answered by the bridge's deadline, not Kestrel's data rate");
        Assert.That(app.Count("SELECT (SELECT COUNT(*) FROM web_chat_messages) + (SELECT COUNT(*) FROM web_chat_responses)"), Is.Zero);
        Assert.That(app.Count("SELECT COUNT(*) FROM system_config WHERE category = 'chat_bridge'"), Is.Zero);
    }

    /// <summary>On a real Kestrel port: a request whose body has not all arrived must be answerable.</summary>
    private static SanctumApplication OnKestrel(SanctumApplication app)
    {
        app.UseKestrelOnLoopback();
        app.StartServer();
        return app;
    }

    /// <summary>
    /// A POST on a raw socket (HttpClient waits until it has sent the whole body before it returns an answer) that
    /// declares 1,000 bytes more than it sends; returns the status and the envelope's error.
    /// </summary>
    private static async Task<(int Status, string? Error)> StalledPostAsync(SanctumApplication app, string path, string authorization, string start)
    {
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        var bytes = System.Text.Encoding.UTF8.GetBytes(start);
        var head = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: {authorization}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {bytes.Length + 1000}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var status = int.Parse((await reader.ReadLineAsync())!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int? length = null;
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder();
        // Without a length the body comes in chunks: a hexadecimal size line, the chunk, an empty line; size 0 ends it.
        while ((length ?? int.Parse((await reader.ReadLineAsync())!, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)) is var size and > 0)
        {
            var chunk = new char[size];
            var read = 0;
            while (read < size && await reader.ReadAsync(chunk.AsMemory(read)) is var n and > 0) read += n;
            text.Append(chunk, 0, read);
            if (length is not null) break;
            await reader.ReadLineAsync();
        }
        var json = JsonDocument.Parse(text.ToString()).RootElement;
        Assert.That(json.GetProperty("success").GetBoolean(), Is.False);
        return (status, json.GetProperty("error").GetString());
    }
}
