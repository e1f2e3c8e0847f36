using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.RegularExpressions;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>
/// The tail of an agent's Broca logs (the files directly in its logs/ folder, newest last), filtered by level and
/// text, bounded in lines and bytes; and one log file's download. No path outside logs/ can be named.
/// </summary>
public static partial class BrocaLogsApi
{
    public static readonly string[] Levels = ["debug", "info", "warning", "error", "critical"];
    // The documented ceilings of a tail: Sanctum:Broca:MaxLogLines (2000 by default) stays below MaxLines, and a line
    // is cut by the byte budget (Sanctum:Broca:MaxLogBytes) long before MaxLineLength.
    public const int MaxSearch = 200, MaxFileName = 255, MaxLines = 10_000, MaxLineLength = 1 << 20, MaxFiles = 1000;
    public const string FileNamePattern = "^[A-Za-z0-9._-]{1,255}$";

    public static void MapBrocaLogs(this RouteGroupBuilder group)
    {
        group.MapGet("/logs", Tail).WithName("GetBrocaLogs").RequireAdmin()
            .WithSummary("The last lines of the agent's Broca log files, newest last (admin): level = the lowest level shown, search = text to contain")
            .Produces<BrocaLogTail>().ProducesValidationProblem().BrocaProblems();
        group.MapGet("/logs/{file}", Download).WithName("DownloadBrocaLog").RequireAdmin()
            .WithSummary("One log file of the agent's Broca logs/ folder (admin)")
            .Produces(StatusCodes.Status200OK, contentType: "text/plain").ProducesValidationProblem().BrocaProblems();
    }

    private static Task<IResult> Tail(string id, int? lines, [Infrastructure.OneOf(typeof(BrocaLogsApi), nameof(Levels))] string? level, [Text(MaxSearch)] string? search, BrocaLogServices s)
    {
        var errors = new Errors();
        var max = s.Broca.Options.MaxLogLines;
        if (lines < 1 || lines > max) errors.Add("lines", $"Must be from 1 to {max}.");
        if (errors.Any) return Task.FromResult<IResult>(Problems.Invalid(errors));
        var want = lines ?? 200;
        var minimum = level is null ? 0 : Array.IndexOf(Levels, level);

        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, async home =>
        {
            var folder = new DirectoryInfo(home.File(BrocaHome.LogsFolder));
            if (!folder.Exists) return TypedResults.Ok(new BrocaLogTail([], [], false));
            var files = LogFiles(home).OrderByDescending(f => f.LastWriteTimeUtc).ThenByDescending(f => f.Name, StringComparer.Ordinal).ToList();
            var kept = new List<string>();
            var budget = s.Broca.Options.MaxLogBytes;
            var truncated = false;
            // Newest file first, read from its end, until enough matching lines or the byte budget is spent.
            foreach (var file in files)
            {
                if (kept.Count >= want || budget <= 0) { truncated = true; break; }
                var (text, cut) = await ReadEndAsync(file.FullName, budget, s.Http.RequestAborted);
                budget -= Encoding.UTF8.GetByteCount(text);
                truncated |= cut;
                var matching = Filter(text.Split('\n').Where(l => l.Length > 0), minimum, search).ToList();
                kept.InsertRange(0, matching.TakeLast(want - kept.Count));
            }
            return TypedResults.Ok(new BrocaLogTail(kept, files.Select(f => new BrocaLogFile(f.Name, f.Length, f.LastWriteTimeUtc)).ToList(), truncated));
        });
    }

    private static Task<IResult> Download(string id, string file, BrocaLogServices s)
    {
        if (!SafeName().IsMatch(file) || file.StartsWith('.'))
            return Task.FromResult<IResult>(Problems.Invalid("file", "Must be the name of a file directly in logs/ (letters, digits, '.', '_', '-')."));
        return BrocaResults.WithHomeAsync(s.Db, id, s.Http.User, s.Http, home =>
        {
            var logs = home.File(BrocaHome.LogsFolder);
            var path = Directory.Exists(logs) ? InstanceFolder.Inside(logs, file) : null;
            if (path is null || !File.Exists(path)) return Task.FromResult<IResult>(Problems.NotFound($"Log file '{file}' of agent '{id}'"));
            return Task.FromResult<IResult>(TypedResults.File(File.OpenRead(path), "text/plain; charset=utf-8", file));
        });
    }

    private static IEnumerable<FileInfo> LogFiles(AgentHome home)
    {
        var logs = home.File(BrocaHome.LogsFolder);
        return new DirectoryInfo(logs).EnumerateFiles().Where(f => !f.Name.StartsWith('.') && InstanceFolder.Inside(logs, f.Name) is not null);
    }

    /// <summary>Lines at or above the level (a line without one, such as a traceback, goes with the line before it) that contain the text.</summary>
    private static IEnumerable<string> Filter(IEnumerable<string> lines, int minimum, string? search)
    {
        var current = 1;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd('\r');
            if (LevelOf(line) is { } level) current = level;
            if (current < minimum) continue;
            if (search is not null && !line.Contains(search, StringComparison.OrdinalIgnoreCase)) continue;
            yield return line;
        }
    }

    private static int? LevelOf(string line)
    {
        var match = LevelPattern().Match(line);
        if (!match.Success) return null;
        var index = Array.IndexOf(Levels, (match.Groups[1].Success ? match.Groups[1] : match.Groups[2]).Value.ToLowerInvariant() switch { "warn" => "warning", "fatal" => "critical", var l => l });
        return index < 0 ? null : index;
    }

    private static async Task<(string Text, bool Cut)> ReadEndAsync(string path, int budget, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var start = Math.Max(0, stream.Length - budget);
        stream.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - start];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        var text = Encoding.UTF8.GetString(buffer);
        // A read that starts mid-file drops its first, partial line.
        if (start > 0) text = text[(text.IndexOf('\n') + 1)..];
        return (text, start > 0);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$")]
    private static partial Regex SafeName();

    // Broca writes "[time] [LEVEL] logger: message"; other formats name the level as a word.
    [GeneratedRegex(@"\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]|\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")]
    private static partial Regex LevelPattern();
}

public sealed record BrocaLogFile([property: System.ComponentModel.DataAnnotations.MaxLength(BrocaLogsApi.MaxFileName)] string Name, long Bytes, DateTime ModifiedAt);

/// <summary>The lines (oldest first), the log files there are, and whether older lines were left out.</summary>
public sealed record BrocaLogTail([property: Infrastructure.Items(BrocaLogsApi.MaxLineLength), System.ComponentModel.DataAnnotations.MaxLength(BrocaLogsApi.MaxLines)] List<string> Lines, [property: System.ComponentModel.DataAnnotations.MaxLength(BrocaLogsApi.MaxFiles)] List<BrocaLogFile> Files, bool Truncated);

public sealed record BrocaLogServices(System.Data.Common.DbConnection Db, BrocaDatabase Broca, HttpContext Http)
{
    public static ValueTask<BrocaLogServices> BindAsync(HttpContext http) => ValueTask.FromResult(new BrocaLogServices(
        http.RequestServices.GetRequiredService<System.Data.Common.DbConnection>(), http.RequestServices.GetRequiredService<BrocaDatabase>(), http));
}
