namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// The bad-input sweep digests the database after a refused request only when <see cref="DatabaseDigest.CommitMark"/>
/// moved: a mark that stood over a commit would let a refused request that wrote pass unseen. So every write through
/// the API, read back right after its response, must have moved the mark, on both engines (SQLite's data_version,
/// PostgreSQL's notifications), on the connection the sweep uses and on one that was not listening before.
/// </summary>
public class CommitMarkTests
{
    [Test]
    public async Task EveryWriteThroughTheApiMovesTheMarkBeforeItsResponseIsRead()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:HealthChecks:Enabled"] = "false",
            ["Sanctum:Alerts:Enabled"] = "false",
        });
        var admin = await app.CreateAdminClientAsync();
        using var sweepConnection = app.OpenDatabase();
        using var plainConnection = app.OpenDatabaseWithoutStarting();
        var connections = new[] { sweepConnection, plainConnection };
        var marks = connections.Select(DatabaseDigest.CommitMark).ToArray();

        var id = "mark-" + Guid.NewGuid().ToString("N")[..8];
        var writes = new List<(string What, Func<Task<HttpResponseMessage>> Send)>
        {
            ("create a tool", () => admin.PostAsJsonAsync("/api/tools", new { id, name = "Marked", category = "master" })),
            ("rename it", () => admin.PutAsJsonAsync($"/api/tools/{id}", new { name = "Marked again", category = "master" })),
            ("set a setting", () => admin.PutAsJsonAsync("/api/config/sanctum_base_path", new { value = "/srv/mark-1" })),
            ("set it again", () => admin.PutAsJsonAsync("/api/config/sanctum_base_path", new { value = "/srv/mark-2" })),
            ("delete the tool", () => admin.DeleteAsync($"/api/tools/{id}")),
        };
        foreach (var (what, send) in writes)
        {
            using var response = await send();
            Assert.That((int)response.StatusCode, Is.InRange(200, 299), $"{what}: {await response.Content.ReadAsStringAsync()}");
            for (var i = 0; i < connections.Length; i++)
            {
                var now = DatabaseDigest.CommitMark(connections[i]);
                Assert.That(now, Is.Not.EqualTo(marks[i]), $"{what} committed, but the mark of the {(i == 0 ? "sweep's" : "plain")} connection did not move");
                marks[i] = now;
            }
        }
    }
}
