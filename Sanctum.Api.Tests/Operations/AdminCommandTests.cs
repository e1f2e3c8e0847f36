using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Tests.Evidence;

namespace Sanctum.Api.Tests.Operations;

/// <summary>The admin commands run as the operator runs them: <c>dotnet Sanctum.Api.dll &lt;command&gt;</c> in a child process.</summary>
[Order(2)]
public class AdminCommandTests
{
    private string _directory = null!;

    [SetUp]
    public void NewDirectory() => _directory = ServerProcess.NewDataDirectory();

    [TearDown]
    public void DeleteDirectory() => ServerProcess.DeleteDataDirectory(_directory);

    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs the built binary (the test output holds the same build) with a command.</summary>
    public static async Task<Result> RunAsync(string dataDirectory, string directory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = ServerProcess.StartInfo(dataDirectory, args, directory);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return new Result(process.ExitCode, await output, await error);
    }

    private Task<Result> RunAsync(params string[] args) => RunAsync(_directory, AppContext.BaseDirectory, null, args);

    [Test]
    public async Task HelpListsTheCommandsAndTheExitCodes()
    {
        var help = await RunAsync("--help");
        Assert.That(help.ExitCode, Is.Zero, help.Error);
        Assert.That(help.Output, Does.Contain("migrate").And.Contain("backup").And.Contain("restore").And.Contain("reset-admin-password").And.Contain("healthcheck"));
        Assert.That(help.Output, Does.Contain("Exit codes: 0 done; 1 the command line is wrong; 2 the command failed"));
        Assert.That(help.Output, Does.Contain("3 the data directory is in use"));

        var unknown = await RunAsync("frobnicate");
        Assert.That(unknown.ExitCode, Is.EqualTo(1));
        Assert.That(unknown.Error, Does.Contain("frobnicate"));
        Assert.That(Directory.GetFileSystemEntries(_directory), Is.Empty, "a wrong command line touches nothing");
    }

    [Test]
    public async Task BackupWorksWhileTheServerRunsAndRestoreWaitsUntilItStops()
    {
        TestEngine.RequireSqlite("backup and restore copy the SQLite file");
        var server = await ServerProcess.StartAsync(_directory);
        string file;
        using (var admin = server.CreateClient(await server.AdminTokenAsync()))
        {
            var created = await admin.PostAsJsonAsync("/api/users", new { username = "carol", email = "carol@example.test", password = "crimson-lantern-1" });
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            file = Path.Combine(_directory, "outside.zip");
            var backup = await RunAsync("backup", "--out", file);
            Assert.That(backup.ExitCode, Is.Zero, backup.Error);
            Assert.That(backup.Output.Trim(), Is.EqualTo(file));
            Assert.That(BackupZips.Entries(await File.ReadAllBytesAsync(file)).Keys, Does.Contain("sanctum.db").And.Contain("manifest.json"));

            var stored = await RunAsync("backup");
            Assert.That(stored.ExitCode, Is.Zero, stored.Error);
            var listed = await admin.GetFromJsonAsync<JsonElement>("/api/backups");
            Assert.That(stored.Output.Trim(), Does.EndWith(listed[0].GetProperty("name").GetString()!), "the server lists the backup the command stored");

            using (var db = server.OpenDatabase()) db.Execute("DELETE FROM users WHERE username = 'carol'");
            var refused = await RunAsync("restore", file);
            Assert.That(refused.ExitCode, Is.EqualTo(3), refused.Output + refused.Error);
            Assert.That(refused.Error, Does.Contain("in use").And.Contain("stop the server first"));
            using (var db = server.OpenDatabase())
                Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE username = 'carol'"), Is.Zero, "nothing was restored");
        }
        await server.DisposeAsync();

        var restore = await RunAsync("restore", file);
        Assert.That(restore.ExitCode, Is.Zero, restore.Error);
        Assert.That(restore.Output, Does.Contain("users: 1 -> 2"));
        await using var again = await ServerProcess.StartAsync(_directory);
        using var client = again.CreateClient();
        Assert.That(await SanctumApplication.LoginAsync(client, "carol", "crimson-lantern-1"), Is.Not.Null, "the deleted user is back");
    }

    [Test]
    public async Task RestoreRefusesATamperedFileWithExitCode2AndChangesNothing()
    {
        TestEngine.RequireSqlite("restore replaces the SQLite file");
        Assert.That((await RunAsync("migrate")).ExitCode, Is.Zero);
        var file = Path.Combine(_directory, "b.zip");
        Assert.That((await RunAsync("backup", "--out", file)).ExitCode, Is.Zero);
        await File.WriteAllBytesAsync(file, BackupZips.Rewrite(await File.ReadAllBytesAsync(file), e => e["sanctum.db"][100] ^= 1));

        var restore = await RunAsync("restore", file);
        Assert.That(restore.ExitCode, Is.EqualTo(2));
        Assert.That(restore.Error, Does.Contain("SHA-256"));
        Assert.That(Directory.Exists(Path.Combine(_directory, "backups")) ? Directory.GetFiles(Path.Combine(_directory, "backups"), "*pre-restore*") : [], Is.Empty);

        var missing = await RunAsync("restore", Path.Combine(_directory, "nope.zip"));
        Assert.That(missing.ExitCode, Is.EqualTo(2));
        Assert.That((await RunAsync("restore")).ExitCode, Is.EqualTo(1), "FILE is required");
    }

    [Test]
    public async Task ResetAdminPasswordPrintsAOneTimePasswordClearsTheLockoutAndEndsSessions()
    {
        await using (var server = await ServerProcess.StartAsync(_directory))
        {
            var token = await server.AdminTokenAsync();
            using (var db = server.OpenDatabase())
                db.Execute("UPDATE users SET failed_login_attempts = 9, locked_until = '2100-01-01T00:00:00Z', status = 'locked' WHERE username = 'admin'");

            var reset = await RunAsync("reset-admin-password");
            Assert.That(reset.ExitCode, Is.Zero, reset.Error);
            var password = reset.Output.Trim().Split('\n').Last().Trim();
            Assert.That(password, Has.Length.EqualTo(16));
            Assert.That(reset.Error, Does.Not.Contain(password), "the password is printed once, on stdout only");

            using var old = server.CreateClient(token);
            Assert.That((await old.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "the old session ended");
            using var client = server.CreateClient();
            var login = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password });
            Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK), await login.Content.ReadAsStringAsync());
            Assert.That((await login.JsonAsync()).GetProperty("user").GetProperty("must_change_password").GetBoolean(), Is.True);
        }
        var unknown = await RunAsync("reset-admin-password", "--username", "nobody");
        Assert.That(unknown.ExitCode, Is.EqualTo(2));
        Assert.That(unknown.Error, Does.Contain("no user named 'nobody'"));
    }

    [Test]
    public async Task HealthcheckIsZeroOnlyWhileTheServerIsReady()
    {
        await using (var server = await ServerProcess.StartAsync(_directory))
        {
            var healthy = await RunAsync(_directory, AppContext.BaseDirectory,
                new Dictionary<string, string> { ["ASPNETCORE_URLS"] = server.BaseAddress.ToString().Replace("127.0.0.1", "+", StringComparison.Ordinal) }, "healthcheck");
            Assert.That(healthy.ExitCode, Is.Zero, healthy.Output + healthy.Error);
            Assert.That(healthy.Output, Does.StartWith("200"));
            var byUrl = await RunAsync("healthcheck", "--url", server.BaseAddress.ToString());
            Assert.That(byUrl.ExitCode, Is.Zero);
        }
        await using (var app = new SanctumApplication(new Dictionary<string, string?> { ["AllowedHosts"] = "sanctum.example.com" }))
        {
            // A server that answers only to its public name (a loopback Host gets 400).
            app.UseKestrelOnLoopback();
            app.StartServer();
            var url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
                .GetRequiredFeature<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>().Addresses.First().Replace("[::]", "localhost", StringComparison.Ordinal).TrimEnd('/');
            using (var direct = new HttpClient())
                Assert.That((await direct.GetAsync(url + "/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            var environment = new Dictionary<string, string> { ["AllowedHosts"] = "sanctum.example.com" };
            var healthy = await RunAsync(_directory, AppContext.BaseDirectory, environment, "healthcheck", "--url", url);
            Assert.That(healthy.ExitCode, Is.Zero, "the healthcheck asks as an allowed host: " + healthy.Output + healthy.Error);
        }
        var down = await RunAsync("healthcheck", "--url", "http://127.0.0.1:1");
        Assert.That(down.ExitCode, Is.EqualTo(2));
        Assert.That(down.Error, Does.Contain("did not answer"));
    }

    [Test]
    public async Task BackupRestoreAndPasswordResetAreAuditedAsTheCliAndTheRestoreKeepsTheLog()
    {
        TestEngine.RequireSqlite("restore replaces the SQLite file");
        Assert.That((await RunAsync("migrate")).ExitCode, Is.Zero);
        var file = Path.Combine(_directory, "b.zip");
        var backup = await RunAsync("backup", "--out", file);
        Assert.That(backup.ExitCode, Is.Zero, backup.Error);
        var reset = await RunAsync("reset-admin-password");
        Assert.That(reset.ExitCode, Is.Zero, reset.Error);
        var restore = await RunAsync("restore", file);
        Assert.That(restore.ExitCode, Is.Zero, restore.Error);
        Assert.That(restore.Output, Does.Contain("audit log was kept"));

        using var db = new SqliteConnection($"Data Source={Path.Combine(_directory, "sanctum.db")};Pooling=false");
        var rows = db.Query<(string Action, string? Actor, string Outcome)>("SELECT action, actor, outcome FROM audit_log ORDER BY id").ToList();
        var cli = "cli:" + Environment.UserName;
        Assert.That(rows.Where(r => r.Actor == cli).Select(r => r.Action),
            Is.SupersetOf(new[] { "backup.created", "user.password.reset", "backup.restored" }), string.Join("\n", rows));
        Assert.That(rows.FindIndex(r => r.Action == "user.password.reset"), Is.LessThan(rows.FindIndex(r => r.Action == "backup.restored")),
            "the reset made after the backup is still in the log after the restore");
    }

    [Test]
    public async Task MigrateCreatesTheDatabaseAndIsSafeToRepeat()
    {
        var first = await RunAsync("migrate");
        Assert.That(first.ExitCode, Is.Zero, first.Error);
        Assert.That(first.Output, Does.Contain("schema version 4"));
        Assert.That((await RunAsync("migrate")).ExitCode, Is.Zero);
    }
}
