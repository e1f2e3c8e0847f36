using System.Net.Sockets;
using System.Text;

namespace Sanctum.Api.Tests.Signals;

/// <summary>
/// A real HTTP/1.1 listener on 127.0.0.1 for health checks to probe: it answers every request with
/// <see cref="Status"/> after <see cref="Delay"/>, and counts the connections it served and the most it had open at once.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _open, _maxOpen, _served;

    public LoopbackServer(int status = 200, TimeSpan? delay = null)
    {
        Status = status;
        Delay = delay ?? TimeSpan.Zero;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Status { get; set; }
    public TimeSpan Delay { get; set; }
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url => $"http://127.0.0.1:{Port}/health";
    public string HostAndPort => $"127.0.0.1:{Port}";
    public int MaxOpen => Volatile.Read(ref _maxOpen);
    public int Served => Volatile.Read(ref _served);

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var open = Interlocked.Increment(ref _open);
        int seen;
        while ((seen = Volatile.Read(ref _maxOpen)) < open && Interlocked.CompareExchange(ref _maxOpen, open, seen) != seen) { }
        // Served and closed before the answer is written: once the client has it, it may open its next request (and the
        // test may read the counts) at once, before this task runs again (on a loaded machine that counted one open
        // request too many).
        var closed = 0;
        void Close()
        {
            if (Interlocked.Exchange(ref closed, 1) == 0) Interlocked.Decrement(ref _open);
        }
        try
        {
            using (client)
            {
                var stream = client.GetStream();
                var buffer = new byte[4096];
                var request = new StringBuilder();
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0) return;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                await Task.Delay(Delay, _stop.Token);
                var response = $"HTTP/1.1 {Status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                Interlocked.Increment(ref _served);
                Close();
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        finally
        {
            Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
