using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// A real peer run from npm (tools/&lt;name&gt;/node_modules) on a free loopback port, started once per fixture: ready when
/// it prints its listening line (a signal, no polling), stopped with its whole process tree.
/// </summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _log = new();

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string Log { get { lock (_log) return _log.ToString(); } }
    /// <summary>Where the log ends now: <see cref="LogSince"/> reads what the peer printed after it.</summary>
    public int Mark { get { lock (_log) return _log.Length; } }
    public string LogSince(int mark) { lock (_log) return _log.ToString(mark, _log.Length - mark); }

    private PeerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>A port nobody listens on right now (bound to 0 and released).</summary>
    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Installs tools/<paramref name="tool"/> with npm ci when its node_modules is missing (.ci/run does it first).</summary>
    public static string ToolFolder(string tool)
    {
        var folder = Path.Combine(OpenApiTests.RepositoryRoot(), "tools", tool);
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            using var npm = Process.Start(new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund"]) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true })!;
            npm.StandardOutput.ReadToEnd();
            npm.WaitForExit();
            Assert.That(npm.ExitCode, Is.Zero, $"npm ci in tools/{tool} failed");
        }
        return folder;
    }

    /// <summary>Starts <c>node script args</c> with PORT set; waits for a line containing <paramref name="ready"/>.</summary>
    public static async Task<PeerProcess> StartAsync(string script, IEnumerable<string> args, string ready, int? port = null,
        IDictionary<string, string>? environment = null, TimeSpan? wait = null)
    {
        var chosen = port ?? FreePort();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PORT"] = chosen.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var peer = new PeerProcess(process, chosen);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Line(string? line)
        {
            if (line is null) return;
            lock (peer._log) peer._log.AppendLine(line);
            if (line.Contains(ready, StringComparison.Ordinal)) listening.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The peer exited:\n" + peer.Log));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(wait ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            peer.Dispose();
            throw;
        }
        return peer;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _process.Dispose();
    }
}

/// <summary>The MCP reference server (@modelcontextprotocol/server-everything) in one of its HTTP modes.</summary>
public static class EverythingServer
{
    public static Task<PeerProcess> StartAsync(string mode)
    {
        var script = Path.Combine(PeerProcess.ToolFolder("mcp-everything"), "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
        return PeerProcess.StartAsync(script, [mode], mode == "sse" ? "running on port" : "listening on port");
    }
}
