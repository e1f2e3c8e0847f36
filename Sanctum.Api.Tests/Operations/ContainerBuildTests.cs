using System.Diagnostics;
using System.Text.RegularExpressions;
using Sanctum.Api.Tests.Evidence;

namespace Sanctum.Api.Tests.Operations;

/// <summary>
/// The Dockerfile's build without a Docker daemon: its build-stage COPY lines and dotnet commands are carried out as
/// written (with /src and /app in a temp folder), and the output is run the way the image runs it, HEALTHCHECK included.
/// </summary>
// Beside the other fixtures, at its folder's place in the run: the longest single test (a restore and a Release
// publish). Started first, in a shift of the Operations fixtures alone (a SetUpFixture with [Order]), it left a
// core idle for 22 s at the start of the run.
[Category("Container"), Order(1)]
public partial class ContainerBuildTests
{
    private static readonly string Repository = FindRepository();
    private static string[] Dockerfile => File.ReadAllLines(Path.Combine(Repository, "Dockerfile"));

    private string _work = null!;

    [OneTimeSetUp]
    public void OnSqliteOnly() => TestEngine.EngineIndependent("the Dockerfile's build, and its output started as the image starts it (on SQLite)");

    [SetUp]
    public void NewWork() => _work = Path.Combine(Path.GetTempPath(), "sanctum-container", Guid.NewGuid().ToString("N"));

    [TearDown]
    public void DeleteWork()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Test]
    public void BaseImagesArePinnedToA10Point0PatchTagAndTheImageHasNoCurl()
    {
        var from = Dockerfile.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.That(from, Has.Count.EqualTo(2));
        foreach (var line in from) Assert.That(line, Does.Match(@"^FROM mcr\.microsoft\.com/dotnet/(sdk|aspnet):10\.0\.\d+( AS \w+)?$"));
        var text = string.Join('\n', Dockerfile.Where(l => !l.StartsWith('#')));
        Assert.That(text, Does.Not.Contain("curl"));
        Assert.That(text, Does.Contain("CMD [\"dotnet\", \"Sanctum.Api.dll\", \"healthcheck\"]"));
        Assert.That(text, Does.Contain("chown app:app /data && chmod 0700 /data"));
        Assert.That(text, Does.Contain("USER app"));
    }

    [Test]
    public async Task ThePublishOutputTheDockerfileBuildsIsLinuxOnlyAndPassesItsHealthcheckWhenServing()
    {
        var src = Path.Combine(_work, "src");
        var app = Path.Combine(_work, "app");
        Directory.CreateDirectory(src);
        var buildStage = Dockerfile.SkipWhile(l => !l.StartsWith("FROM ", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        foreach (var line in buildStage)
        {
            if (line.StartsWith("COPY ", StringComparison.Ordinal)) Copy(line[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries), src);
            else if (line.StartsWith("RUN dotnet ", StringComparison.Ordinal))
            {
                var args = line[11..].Replace(" /app ", $" {app} ", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var (code, output) = await DotnetAsync(src, args);
                Assert.That(code, Is.Zero, $"dotnet {string.Join(' ', args)}\n{output}");
            }
        }

        Assert.That(File.Exists(Path.Combine(app, "Sanctum.Api.dll")), Is.True);
        Assert.That(File.Exists(Path.Combine(app, "wwwroot", "index.html")) || File.Exists(Path.Combine(app, "wwwroot", "chat.html")), Is.True, "the pages are published");
        var natives = Directory.GetFiles(app, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is "libe_sqlite3.so" or "libe_sqlite3.dylib" or "e_sqlite3.dll" or "libe_sqlite3.a")
            .Select(f => Path.GetRelativePath(app, f)).ToList();
        Assert.That(natives, Is.EqualTo(new[] { "libe_sqlite3.so" }), "SQLite for linux-x64 only");
        Assert.That(Directory.Exists(Path.Combine(app, "runtimes")) ? Directory.GetDirectories(Path.Combine(app, "runtimes")) : [], Is.Empty,
            "no SQLite builds for other platforms");
        var megabytes = Directory.GetFiles(app, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1024.0 / 1024.0;
        TestContext.Out.WriteLine($"publish output: {megabytes:0.0} MB");
        // Framework-dependent (a self-contained publish carries the runtime, 150 MB and more). ReadyToRun images of the
        // peers' libraries (MailKit/MimeKit for alert mail, the MCP SDK, the resilience handlers) took it from 18 to 47 MB.
        Assert.That(megabytes, Is.LessThan(60));

        var data = ServerProcess.NewDataDirectory();
        try
        {
            int port;
            await using (var server = await ServerProcess.StartAsync(data, binaries: app))
            {
                port = server.BaseAddress.Port;
                var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://+:{port}" };
                var healthy = await AdminCommandTests.RunAsync(data, app, environment, "healthcheck");
                Assert.That(healthy.ExitCode, Is.Zero, healthy.Output + healthy.Error);
            }
            var down = await AdminCommandTests.RunAsync(data, app, new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://+:{port}" }, "healthcheck");
            Assert.That(down.ExitCode, Is.EqualTo(2), "unhealthy once the server is gone");
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(data);
        }
    }

    /// <summary>COPY a b dest/: files or folders relative to the repository, bin/obj/data left out as .dockerignore says.</summary>
    private static void Copy(string[] parts, string src)
    {
        var destination = Path.Combine(src, parts[^1]);
        foreach (var source in parts[..^1])
        {
            var from = Path.Combine(Repository, source);
            if (File.Exists(from))
            {
                var target = parts[^1].EndsWith('/') ? Path.Combine(destination, Path.GetFileName(from)) : destination;
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(from, target, overwrite: true);
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(from, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj" or "data")) continue;
                var target = Path.Combine(destination, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
        }
    }

    private static async Task<(int Code, string Output)> DotnetAsync(string directory, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_TieredPGO"] = "0"; // the SDK's short-lived processes (Sanctum.Api.Tests.csproj)
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
        return (process.ExitCode, await output + await error);
    }

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Sanctum.Api.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("Sanctum.Api.sln was not found above the test binaries.");
    }
}
