using Sanctum.Api.Tests.Evidence;

namespace Sanctum.Api.Tests.Security;

/// <summary>
/// The real server as a child process: item 1b (first start on a public address), item 11 (settings from the
/// application's folder, no hash in any log), items 5b and 5d (refusing to start, in one line).
/// </summary>
// Beside the other fixtures (its servers, ports and directories are its own), and first: its child processes mostly wait.
[Order(1)]
public class StartupTests
{
    private string _directory = null!;

    [SetUp]
    public void NewDirectory() => _directory = ServerProcess.NewDataDirectory();

    [TearDown]
    public void DeleteDirectory() => ServerProcess.DeleteDataDirectory(_directory);

    [Test]
    public async Task AFirstStartOnAPublicAddressGivesTheAdminAOneTimePasswordInAnOwnerOnlyFileThatNoLogShows()
    {
        await using var server = await ServerProcess.StartAsync(_directory, urls: "http://0.0.0.0:0");
        var file = Path.Combine(_directory, "initial-admin-password");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(file) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.That(File.Exists(file), Is.True, server.Output);
        if (!OperatingSystem.IsWindows()) Assert.That(File.GetUnixFileMode(file), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var password = (await File.ReadAllTextAsync(file)).Trim();
        Assert.That(password, Has.Length.GreaterThanOrEqualTo(16));

        using var client = server.CreateClient();
        Assert.That(await SanctumApplication.LoginAsync(client, "admin", "admin123"), Is.Null, "the known default password must not work on a public address");
        var token = await SanctumApplication.LoginAsync(client, "admin", password);
        Assert.That(token, Is.Not.Null);
        Assert.That(server.Output, Does.Contain(file), "the log names the file");
        Assert.That(server.Output, Does.Not.Contain(password), "the log shows the password");

        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await (await client.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Forbidden); // the forced change comes first
        var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = password, new_password = SanctumApplication.AdminPassword });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await change.Content.ReadAsStringAsync());
        Assert.That(File.Exists(file), Is.False, "the one-time password file outlived the change");
    }

    [Test]
    public async Task AFirstStartOnLoopbackKeepsTheDefaultAdminPasswordAndWritesNoFile()
    {
        await using var server = await ServerProcess.StartAsync(_directory);
        using var client = server.CreateClient();
        string? token = null;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (token is null && DateTime.UtcNow < deadline)
        {
            token = await SanctumApplication.LoginAsync(client, "admin", "admin123");
            if (token is null) await Task.Delay(100);
        }
        Assert.That(token, Is.Not.Null, server.Output);
        Assert.That(File.Exists(Path.Combine(_directory, "initial-admin-password")), Is.False);
    }

    [Test]
    public async Task SettingsComeFromTheApplicationsFolderWhateverTheWorkingDirectoryAndNoHashIsLogged()
    {
        var elsewhere = ServerProcess.NewDataDirectory();
        try
        {
            // Information everywhere: appsettings.json (beside the binaries) still quiets FluentMigrator to Warning.
            await using (var server = await ServerProcess.StartAsync(_directory,
                new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Information", ["Sanctum:BootstrapAdminPassword"] = "bootstrap-pass-42" },
                workingDirectory: elsewhere))
            {
                Assert.That(server.Output, Does.Not.Contain("CREATE TABLE"), "appsettings.json was not read: FluentMigrator logged its SQL");
                Assert.That(server.Output, Does.Not.Match(@"\$2[aby]\$"));
            }
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(elsewhere);
        }

        // Even with FluentMigrator's SQL logged on purpose, the seeded admin's hash stays out of the log.
        var fresh = ServerProcess.NewDataDirectory();
        try
        {
            await using var verbose = await ServerProcess.StartAsync(fresh, new Dictionary<string, string>
            {
                ["Logging:LogLevel:FluentMigrator"] = "Trace", ["Logging:LogLevel:Default"] = "Information", ["Sanctum:BootstrapAdminPassword"] = "bootstrap-pass-42",
            });
            Assert.That(verbose.Output, Does.Contain("CREATE TABLE"), "the SQL log was not on, so this proves nothing");
            Assert.That(verbose.Output, Does.Not.Match(@"\$2[aby]\$\d\d\$"));
            Assert.That(verbose.Output, Does.Not.Contain("bootstrap-pass-42"));
        }
        finally
        {
            ServerProcess.DeleteDataDirectory(fresh);
        }
    }

    [TestCase("missing")]
    [TestCase("empty")]
    public async Task ALostDatabaseBesideAnEarlierInstallsKeysIsRefusedInsteadOfBecomingAFreshInstall(string how)
    {
        TestEngine.RequireSqlite("a missing or empty SQLite file beside the key ring");
        await using (var first = await ServerProcess.StartAsync(_directory)) { }
        Assert.That(Directory.EnumerateFiles(Path.Combine(_directory, "keys")), Is.Not.Empty);
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_directory, "sanctum.db*")) File.Delete(file);
        if (how == "empty") File.WriteAllBytes(Path.Combine(_directory, "sanctum.db"), []);

        var (exitCode, output) = await ServerProcess.RunToExitAsync(_directory);
        Assert.That(exitCode, Is.EqualTo(1), output);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Single(l => l.StartsWith("sanctum:"));
        Assert.That(line, Does.Contain("refusing to start").And.Contain(Path.Combine(_directory, "sanctum.db")));
        Assert.That(output, Does.Not.Contain("   at "), "a stack trace instead of one line");
        var database = new FileInfo(Path.Combine(_directory, "sanctum.db"));
        Assert.That(!database.Exists || database.Length == 0, Is.True, "a fresh database with the default admin was created");
    }

    [Test]
    public async Task ACorruptDatabaseEndsTheStartWithOneLineNamingThePathAndTheCause()
    {
        TestEngine.RequireSqlite("a corrupt SQLite file");
        await File.WriteAllTextAsync(Path.Combine(_directory, "sanctum.db"), new string('x', 8192));
        var (exitCode, output) = await ServerProcess.RunToExitAsync(_directory);
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain(Path.Combine(_directory, "sanctum.db")).And.Contain("not a valid SQLite database"));
        Assert.That(output, Does.Not.Contain("   at "), "a stack trace instead of one line");
    }

    [Test]
    public async Task AnUnusableDataDirectoryEndsTheStartWithOneLineNamingIt()
    {
        var file = Path.Combine(_directory, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        var (exitCode, output) = await ServerProcess.RunToExitAsync(Path.Combine(file, "data"));
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain(Path.Combine(file, "data")));
        Assert.That(output, Does.Not.Contain("   at "));
    }

    [Test]
    [TestCase("directory")]
    [TestCase("database")]
    public async Task AReadOnlyDataDirectoryOrDatabaseEndsTheStartAtOnceWithOneLineSayingSo(string what)
    {
        TestEngine.RequireSqlite("the SQLite data directory");
        await using (var first = await ServerProcess.StartAsync(_directory)) { }
        SqliteConnection.ClearAllPools();
        var target = what == "directory" ? _directory : Path.Combine(_directory, "sanctum.db");
        try
        {
            MakeReadOnly(target, true);
            var (exitCode, output) = await ServerProcess.RunToExitAsync(_directory);
            Assert.That(exitCode, Is.EqualTo(1), output);
            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Single(l => l.StartsWith("sanctum:"));
            Assert.That(line, Does.Contain($"{target} is read-only"));
            Assert.That(output, Does.Not.Contain("another process").And.Not.Contain("   at "));
        }
        finally
        {
            MakeReadOnly(target, false);
        }
    }

    [Test]
    public async Task ADataDirectoryThatBecomesReadOnlyWhileRunningMakesReadyzUnhealthyUntilItIsWritableAgain()
    {
        await using var server = await ServerProcess.StartAsync(_directory);
        using var client = server.CreateClient();
        Assert.That((await client.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK), server.Output);
        try
        {
            MakeReadOnly(_directory, true);
            var unready = await client.GetAsync("/readyz");
            Assert.That(unready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), server.Output);
        }
        finally
        {
            MakeReadOnly(_directory, false);
        }
        Assert.That((await client.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK), server.Output);
    }

    /// <summary>
    /// Mode bits for an ordinary user; root ignores them, so as root also the immutable attribute (chattr, on ext4 and
    /// most local file systems). Ignores the test where neither stops this process from writing.
    /// </summary>
    private static void MakeReadOnly(string path, bool readOnly)
    {
        var isDirectory = Directory.Exists(path);
        // An immutable file's mode cannot change: the mode first when locking, the attribute first when unlocking.
        if (!readOnly) Chattr("-i", path);
        File.SetUnixFileMode(path, readOnly
            ? (isDirectory ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead)
            : (isDirectory ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite));
        if (readOnly) Chattr("+i", path);
        if (!readOnly) return;
        try
        {
            if (isDirectory) File.WriteAllText(Path.Combine(path, "probe"), "");
            else using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) { }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return;
        }
        MakeReadOnly(path, false);
        Assert.Ignore($"Neither the mode nor chattr +i makes {path} read-only for this process here.");
    }

    private static void Chattr(string change, string path)
    {
        if (Environment.UserName != "root") return;
        using var chattr = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("chattr", [change, path]) { RedirectStandardError = true })!;
        chattr.WaitForExit();
    }
}
