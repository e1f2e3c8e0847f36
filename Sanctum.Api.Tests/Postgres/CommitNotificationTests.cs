using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Sanctum.Api;
using Sanctum.Api.Data;
using Npgsql;

namespace Sanctum.Api.Tests.Postgres;

/// <summary>
/// The result caches' version on PostgreSQL (Data/PostgresCommits.cs): commits announced by the tables' triggers,
/// counted from memory. A commit through the host's own pool must be counted before the call returns (else the next
/// request could get an older cached answer); another session's must be pushed to the host without anyone asking.
/// </summary>
public class CommitNotificationTests
{
    [Test]
    public async Task ACommitThroughTheHostsPoolIsCountedBeforeTheCallReturns()
    {
        TestEngine.RequirePostgres("the commit notifications are PostgreSQL's");
        await using var app = new SanctumApplication();
        var database = app.Services.GetRequiredService<Database>();
        for (var i = 0; i < 20; i++)
        {
            using var db = database.Open();
            var before = database.Commits.Count;
            db.Execute("UPDATE tools SET name = name WHERE id = 'broca'");
            Assert.That(database.Commits.Count, Is.GreaterThan(before), $"commit {i} was not counted when it returned");
        }
    }

    [Test]
    public async Task AWriteInATransactionIsCountedWhenItCommitsAndNeitherReadsNorRollbacksAre()
    {
        TestEngine.RequirePostgres("the commit count is PostgreSQL's");
        await using var app = new SanctumApplication();
        using var database = OwnDatabase(app);
        await using var db = await database.OpenAsync();
        var before = database.Commits.Count;
        await db.QueryAsync<string>("SELECT name FROM tools");
        await db.ExecuteScalarAsync<string>("SELECT name FROM tools WHERE id = 'broca' FOR UPDATE");
        Assert.That(database.Commits.Count, Is.EqualTo(before), "reads are not commits: counting them would empty the caches on every request");

        await using (var tx = await db.BeginTransactionAsync())
        {
            await db.ExecuteAsync("UPDATE tools SET name = name WHERE id = 'broca'", transaction: tx);
            Assert.That(database.Commits.Count, Is.EqualTo(before), "not visible to anyone before the commit");
            await tx.CommitAsync();
        }
        Assert.That(database.Commits.Count, Is.GreaterThan(before), "counted when the commit returns");

        var committed = database.Commits.Count;
        await using (var tx = await db.BeginTransactionAsync())
        {
            await db.ExecuteAsync("UPDATE tools SET name = 'gone' WHERE id = 'broca'", transaction: tx);
            await tx.RollbackAsync();
        }
        Assert.That(database.Commits.Count, Is.EqualTo(committed), "a rollback changed nothing");

        var returning = database.Commits.Count;
        var name = (await db.QueryAsync<string>("UPDATE tools SET name = name WHERE id = 'broca' RETURNING name")).Single();
        Assert.That(name, Is.Not.Empty);
        Assert.That(database.Commits.Count, Is.GreaterThan(returning), "a write that returns rows is counted once they are read");
    }

    [Test]
    public async Task AStatementThatChangesNoRowIsNeitherCountedNorAnnounced()
    {
        TestEngine.RequirePostgres("the commit count is PostgreSQL's");
        await using var app = new SanctumApplication();
        using var database = OwnDatabase(app);
        await using var listener = new NpgsqlConnection(app.ConnectionString);
        await listener.OpenAsync();
        var heard = new ConcurrentQueue<(int Pid, string Payload)>();
        listener.Notification += (_, e) => heard.Enqueue((e.PID, e.Payload));
        await listener.ExecuteAsync($"LISTEN {PostgresCommits.Channel}");

        await using var db = await database.OpenAsync();
        var pid = await db.ExecuteScalarAsync<int>("SELECT pg_backend_pid()");
        var before = database.Commits.Count;
        // What the background pollers' claims do every second when nothing is due.
        await db.ExecuteAsync("UPDATE tools SET name = name WHERE id = 'no such tool'");
        await db.ExecuteAsync("DELETE FROM tools WHERE id = 'no such tool'");
        await db.ExecuteAsync("INSERT INTO tools SELECT * FROM tools WHERE FALSE");
        Assert.That((await db.QueryAsync<string>("UPDATE tools SET name = name WHERE id = 'no such tool' RETURNING name")).ToList(), Is.Empty);
        await using (var tx = await db.BeginTransactionAsync())
        {
            await db.ExecuteAsync("UPDATE tools SET name = name WHERE id = 'no such tool'", transaction: tx);
            await tx.CommitAsync();
        }
        Assert.That(database.Commits.Count, Is.EqualTo(before), "nothing changed: counting it would empty every cache");
        await db.ExecuteAsync("UPDATE tools SET name = name WHERE id = 'broca'");
        Assert.That(database.Commits.Count, Is.GreaterThan(before), "a row changed");

        await db.ExecuteAsync($"SELECT pg_notify('{PostgresCommits.Channel}', 'end')");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!heard.Contains((pid, "end")) && DateTime.UtcNow < deadline) await listener.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.That(heard.Where(n => n.Pid == pid).Select(n => n.Payload), Is.EqualTo(new[] { "", "end" }),
            "announced once, for the statement that changed a row (notifications arrive in commit order)");
    }

    [Test]
    public async Task ATransactionItsLastCommandCommitsIsCountedThenAndOnlyWaitsForTheFlush()
    {
        TestEngine.RequirePostgres("the commit count is PostgreSQL's");
        await using var app = new SanctumApplication();
        using var database = OwnDatabase(app);
        await using var db = await database.OpenAsync();
        var before = database.Commits.Count;
        await using var tx = (PostgresTransaction)await db.BeginTransactionAsync();
        await db.ExecuteAsync($"SELECT {DurableCommit.AsyncCommitCall}; UPDATE tools SET name = 'Broca (renamed)' WHERE id = 'broca'; COMMIT", transaction: tx);
        Assert.That(database.Commits.Count, Is.EqualTo(before), "not counted before the caller says the command committed");
        tx.CommittedByCommand();
        Assert.That(database.Commits.Count, Is.GreaterThan(before), "counted when the command that committed returns");
        await DurableCommit.CommitAsync(tx, asyncCommitAsked: true);

        await using var other = app.OpenDatabaseWithoutStarting();
        Assert.That(await other.ExecuteScalarAsync<string>("SELECT name FROM tools WHERE id = 'broca'"), Is.EqualTo("Broca (renamed)"), "committed");
        Assert.That(await db.ExecuteScalarAsync<string>("SELECT current_setting('transaction_isolation')"), Is.Not.Empty, "the connection is usable after");
    }

    [Test]
    public async Task PooledConnectionsDoNotListenOnlyTheInstancesListenerDoes()
    {
        TestEngine.RequirePostgres("LISTEN is PostgreSQL's");
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        // Requests at once, so the pool holds several connections.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => admin.GetAsync("/api/users?status=locked")));
        var database = app.Services.GetRequiredService<Database>();
        var connections = new List<System.Data.Common.DbConnection>();
        try
        {
            for (var i = 0; i < 8; i++) connections.Add(await database.OpenAsync());
            foreach (var c in connections)
                Assert.That(await c.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_listening_channels()"), Is.Zero,
                    "PostgreSQL wakes every listening session at every notifying commit: pooled connections must not listen");
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
        // The instance's listener (and the live events' one): the database's listening sessions are its two.
        await using var db = await database.OpenAsync();
        Assert.That(await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'"), Is.LessThanOrEqualTo(2));
    }

    [Test]
    public async Task AnotherSessionsCommitReachesTheListenerAndMovesTheVersion()
    {
        TestEngine.RequirePostgres("the commit notifications are PostgreSQL's");
        await using var app = new SanctumApplication();
        var database = app.Services.GetRequiredService<Database>();
        var version = app.Services.GetRequiredService<DataVersion>();
        // Until its listener listens, every call is a new version (nothing cached is served): wait for a steady one.
        Assert.That(SpinWait.SpinUntil(() => version.Current() == version.Current(), TimeSpan.FromSeconds(30)), Is.True, "the listener never listened");
        var steady = version.Current();

        using var other = app.OpenDatabaseWithoutStarting(); // a session of its own, as another instance's
        var before = database.Commits.Count;
        other.Execute("UPDATE tools SET name = name WHERE id = 'broca'");
        Assert.That(SpinWait.SpinUntil(() => database.Commits.Count > before, TimeSpan.FromSeconds(30)), Is.True, "the commit was never heard");
        Assert.That(version.Current(), Is.Not.EqualTo(steady));
    }

    // A Database of the test's own: its count moves only with its own connections (the host's background work commits
    // meanwhile, and nothing listens here).
    private static Database OwnDatabase(SanctumApplication app) =>
        new(app.Services.GetRequiredService<IConfiguration>(), app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SanctumOptions>>());
}
