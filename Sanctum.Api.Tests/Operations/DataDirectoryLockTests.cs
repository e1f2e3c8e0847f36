using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;

namespace Sanctum.Api.Tests.Operations;

public class DataDirectoryLockTests
{
    private string _directory = null!;

    [SetUp]
    public void NewDirectory() => _directory = SanctumApplication.NewDataDirectory();

    [TearDown]
    public void DeleteDirectory()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Test]
    public async Task TwoServersStartedTogetherOnAFreshDataDirectoryBothComeUp()
    {
        // Before the migration lock the second host died on "table already exists".
        for (var round = 0; round < 3; round++)
        {
            var directory = Path.Combine(_directory, round.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Both on an empty database (not the tests' migrated copy), so both really migrate.
            var migrate = new Dictionary<string, string?> { [DatabaseTemplate.Skip] = "true" };
            await using var first = new SanctumApplication(migrate, dataDirectory: directory);
            await using var second = new SanctumApplication(migrate, dataDirectory: directory);
            using var start = new Barrier(2);
            await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); _ = first.Services; }),
                Task.Run(() => { start.SignalAndWait(); _ = second.Services; }));

            foreach (var app in new[] { first, second })
                Assert.That((await app.CreateClient().GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            using var db = first.OpenDatabase();
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM \"VersionInfo\""), Is.EqualTo(4), "each phase migrated once");
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM jobs"), Is.EqualTo(2), "the default jobs were seeded once");
        }
    }

    [Test]
    public async Task AnExclusiveHoldIsRefusedWhileAServerRunsAndNamesTheReason()
    {
        await using var app = new SanctumApplication(dataDirectory: _directory);
        _ = app.Services;

        var refused = Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Exclusive(_directory, "restore"));
        Assert.That(refused!.Message, Does.Contain(_directory).And.Contain("stop the server"));
        using (DataDirectoryLock.Shared(_directory)) { } // an admin command that works beside a server may

        await app.DisposeAsync();
        using (DataDirectoryLock.Exclusive(_directory, "restore")) { } // and once the server is gone, restore may
    }

    [Test]
    public async Task AServerDoesNotStartWhileARestoreHoldsTheDataDirectory()
    {
        Directory.CreateDirectory(_directory);
        using var restore = DataDirectoryLock.Exclusive(_directory, "restore");

        var (exitCode, output) = await Evidence.ServerProcess.RunToExitAsync(_directory);
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("The data directory " + _directory + " is in use")
            .And.Contain("restore (process " + Environment.ProcessId + ")"));
        Assert.That(File.Exists(Path.Combine(_directory, "sanctum.db")), Is.False, "nothing was created");
    }

    [Test]
    public async Task TheMigrationLockWaitsForTheHolderAndThenGoesAhead()
    {
        TestEngine.RequireSqlite("the file lock SQLite migrations take (PostgreSQL: an advisory lock)");
        Directory.CreateDirectory(_directory);
        var holder = DataDirectoryLock.Migrating(_directory, TimeSpan.FromSeconds(1));
        // While it is held nobody gets it (the waiter below cannot have gone ahead before the release)...
        Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Migrating(_directory, TimeSpan.Zero), "a second migrator must wait");
        var waiter = Task.Run(() => DataDirectoryLock.Migrating(_directory, TimeSpan.FromSeconds(30)));
        // ...and one waiting gets it once it is released.
        holder.Dispose();
        using var second = await waiter.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Migrating(_directory, TimeSpan.FromMilliseconds(200)));
    }

    [Test]
    public async Task TheHoldGivesItsSharedLockBackWhenTheExclusiveOneIsRefused()
    {
        await using var app = new SanctumApplication(dataDirectory: _directory);
        _ = app.Services;
        var hold = new DataDirectoryHold(app.Services.GetRequiredService<Database>());
        hold.Shared();
        Assert.Throws<DataDirectoryInUseException>(() => hold.Exclusive("import-flask"));
        Assert.That(hold.IsExclusive, Is.False);
        hold.Dispose();
    }
}
