using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;

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
}
