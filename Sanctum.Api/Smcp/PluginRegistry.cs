using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Smcp;

/// <summary>A command of a plugin: an MCP tool named <c>plugin__command</c> on its server.</summary>
public sealed record PluginCommand([property: MaxLength(PluginLimits.Name)] string Name, [property: MaxLength(PluginLimits.Text)] string? Description, JsonNode? Parameters);

/// <summary>One plugin folder of an SMCP instance: what its --describe says, or why it could not be read.</summary>
public sealed record PluginEntry(
    long InstanceId, [property: MaxLength(PluginLimits.Name)] string Name, [property: MaxLength(PluginLimits.Name)] string? Version,
    [property: MaxLength(PluginLimits.Text)] string? Description, [property: MaxLength(PluginLimits.Commands)] IReadOnlyList<PluginCommand> Commands,
    [property: MaxLength(PluginLimits.Text)] string? Problem);

/// <summary>What a plugin's describe may say (longer is cut), so that responses have bounds.</summary>
public static class PluginLimits
{
    public const int Name = 200, Text = 4000, Commands = 1000, Plugins = 10_000;

    public static string? Cut(string? text, int max) => text is { } t && t.Length > max ? t[..max] : text;
}

/// <summary>Envelope of GET /api/smcp/plugins.</summary>
public sealed record PluginList([property: MaxLength(PluginLimits.Plugins)] IReadOnlyList<PluginEntry> Items);

/// <summary>How plugin --describe runs are bounded (section Sanctum:Smcp).</summary>
public sealed class SmcpOptions
{
    public const string Section = "Sanctum:Smcp";
    public TimeSpan DescribeTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public int DescribeMaxBytes { get; set; } = 1024 * 1024;
    /// <summary>The Python that runs cli.py, looked up on PATH unless a full path.</summary>
    public string Python { get; set; } = "python3";
}

/// <summary>
/// Lists the plugins in <c>home/plugins/*/cli.py</c> of each SMCP instance with a home: each cli.py is run with
/// <c>--describe</c> (no shell; the environment cleared but PATH; time- and size-limited) and its JSON checked against
/// contract v1 (<see cref="PluginContract"/>). Folders and files that are symbolic links are skipped, so nothing
/// outside the plugins folder runs.
/// </summary>
public sealed class PluginRegistry(Database database, Secrets secrets, IOptions<SmcpOptions> options)
{
    public async Task<List<PluginEntry>> ListAsync(CancellationToken cancellationToken)
    {
        List<SmcpEndpoint> endpoints;
        await using (var db = database.Open()) endpoints = await SmcpEndpoint.ActiveAsync(db, secrets, cancellationToken);
        var entries = new List<PluginEntry>();
        foreach (var endpoint in endpoints.Where(e => e.Home is not null))
        {
            var folder = new DirectoryInfo(Path.Combine(endpoint.Home!, "plugins"));
            if (!folder.Exists)
            {
                entries.Add(new PluginEntry(endpoint.InstanceId, "plugins", null, null, [], $"no plugins folder at {folder.FullName}"));
                continue;
            }
            var plugins = folder.EnumerateDirectories()
                .Where(d => d.LinkTarget is null && !d.Name.StartsWith('.') && !d.Name.StartsWith("__", StringComparison.Ordinal))
                .OrderBy(d => d.Name, StringComparer.Ordinal)
                .Select(d => (d.Name, Cli: new FileInfo(Path.Combine(d.FullName, "cli.py"))))
                .Where(p => p.Cli.Exists && p.Cli.LinkTarget is null)
                .Take(PluginLimits.Plugins)
                .ToList();
            // A few at a time: one hanging plugin costs its time limit once, not once per plugin after it.
            using var slots = new SemaphoreSlim(4);
            entries.AddRange(await Task.WhenAll(plugins.Select(async p =>
            {
                await slots.WaitAsync(cancellationToken);
                try { return await DescribeAsync(endpoint.InstanceId, p.Name, p.Cli, cancellationToken); }
                finally { slots.Release(); }
            })));
        }
        return entries;
    }

    private async Task<PluginEntry> DescribeAsync(long instanceId, string name, FileInfo cli, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var (output, problem) = await RunAsync(cli, o, cancellationToken);
        if (problem is not null) return new PluginEntry(instanceId, name, null, null, [], problem);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(output!);
        }
        catch (JsonException e)
        {
            return new PluginEntry(instanceId, name, null, null, [], PluginLimits.Cut($"not JSON: {e.Message}", PluginLimits.Text));
        }
        using (doc)
        {
            var spec = doc.RootElement;
            var problems = PluginContract.Problems(spec);
            if (problems.Count > 0) return new PluginEntry(instanceId, name, null, null, [], PluginLimits.Cut(string.Join("; ", problems.Take(20)), PluginLimits.Text));
            var plugin = spec.TryGetProperty("plugin", out var p) ? p : default;
            var commands = spec.GetProperty("commands").EnumerateArray().Take(PluginLimits.Commands).Select(c => new PluginCommand(
                PluginLimits.Cut(c.GetProperty("name").GetString(), PluginLimits.Name)!,
                PluginLimits.Cut(c.TryGetProperty("description", out var d) ? d.GetString() : null, PluginLimits.Text),
                c.TryGetProperty("parameters", out var ps) && ps.ValueKind == JsonValueKind.Array ? JsonNode.Parse(ps.GetRawText()) : new JsonArray())).ToList();
            return new PluginEntry(instanceId, PluginLimits.Cut(Text(plugin, "name") ?? name, PluginLimits.Name)!, PluginLimits.Cut(Text(plugin, "version"), PluginLimits.Name),
                PluginLimits.Cut(Text(plugin, "description"), PluginLimits.Text), commands, null);
        }
    }

    private static string? Text(JsonElement owner, string name) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Runs <c>python3 cli.py --describe</c> in the plugin's folder; its standard output, or the problem.</summary>
    private static async Task<(string? Output, string? Problem)> RunAsync(FileInfo cli, SmcpOptions o, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(o.Python)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = cli.DirectoryName!, StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(cli.FullName);
        start.ArgumentList.Add("--describe");
        var path = Environment.GetEnvironmentVariable("PATH");
        start.Environment.Clear();
        if (path is not null) start.Environment["PATH"] = path;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"could not start {o.Python}: {e.Message}");
        }
        process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(o.DescribeTimeout);
        var error = DrainAsync(process.StandardError, limit.Token);
        try
        {
            var (output, tooLong) = await ReadLimitedAsync(process.StandardOutput, o.DescribeMaxBytes, limit.Token);
            if (tooLong)
            {
                Kill(process);
                return (null, $"printed more than {o.DescribeMaxBytes} bytes");
            }
            await process.WaitForExitAsync(limit.Token);
            await error;
            if (process.ExitCode != 0) return (null, $"exited with code {process.ExitCode}");
            return (output, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            return (null, $"timed out after {o.DescribeTimeout.TotalSeconds:0.#} s");
        }
        finally
        {
            Kill(process);
        }
    }

    private static async Task<(string Text, bool TooLong)> ReadLimitedAsync(StreamReader reader, int maxBytes, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > maxBytes) return ("", true);
        }
        return (text.ToString(), false);
    }

    private static async Task DrainAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var buffer = new char[4096];
        try
        {
            while (await reader.ReadAsync(buffer.AsMemory(), cancellationToken) > 0) { }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // the process is gone or being killed
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already exited
        }
    }
}
