using Sanctum.Api.Users;

namespace Sanctum.Api.Tests.Management;

/// <summary>
/// GET /api/users?status=locked cannot be cached (a lockout ends with the clock, not a commit), so it must not read
/// every user: SQLite's plan (EXPLAIN QUERY PLAN) reads the two partial indexes of Phase 2.
/// </summary>
public class UserQueryPlanTests
{
    [TestCase("SELECT COUNT(*) FROM users WHERE {0}")]
    [TestCase("SELECT id FROM users WHERE {0} ORDER BY username LIMIT 20 OFFSET 0")]
    [TestCase("SELECT id FROM users WHERE role = 'user' AND {0} ORDER BY username LIMIT 20 OFFSET 0")]
    public void TheLockedUsersAreFoundThroughTheirIndexes(string shape)
    {
        TestEngine.RequireSqlite("this reads SQLite's EXPLAIN QUERY PLAN");
        using var app = new SanctumApplication();
        using var db = app.OpenDatabase();
        var plan = string.Join("\n", db.Query<(long Id, long Parent, long NotUsed, string Detail)>(
            "EXPLAIN QUERY PLAN " + string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, UsersApi.LockedFilter),
            new { now = "2026-01-01T00:00:00Z" }).Select(row => row.Detail));
        TestContext.Out.WriteLine(plan);
        Assert.That(plan, Does.Not.Contain("SCAN users"), "reads every user");
        Assert.That(plan, Does.Contain("SEARCH users USING INDEX ix_users_locked (status=?)"));
        Assert.That(plan, Does.Contain("SEARCH users USING INDEX ix_users_locked_until (locked_until>?)"));
    }
}
