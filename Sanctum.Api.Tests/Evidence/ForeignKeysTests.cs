using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// Foreign keys are switched on once per physical connection (Data/Database.cs), not by the connection string on
/// every open: a connection taken from the pool again must still enforce them.
/// </summary>
public class ForeignKeysTests
{
    [Test]
    public async Task EveryConnectionFromThePoolEnforcesForeignKeys()
    {
        TestEngine.RequireSqlite("PRAGMA foreign_keys; PostgreSQL always enforces foreign keys");
        await using var app = new SanctumApplication();
        var database = app.Services.GetRequiredService<Database>();
        for (var open = 0; open < 3; open++)
        {
            using var db = database.Open();
            Assert.That(db.ExecuteScalar<long>("PRAGMA foreign_keys"), Is.EqualTo(1), $"open {open}");
            var refused = Assert.Throws<SqliteException>(() => db.Execute(
                "INSERT INTO tool_instances (tool_id, name) VALUES ('no-such-tool', 'x')"));
            Assert.That(refused!.SqliteErrorCode, Is.EqualTo(19)); // SQLITE_CONSTRAINT
        }
    }
}
