namespace Sanctum.Api.Tests.Evidence;

/// <summary>The cached tools list never outlives a commit, whoever makes it.</summary>
public class ToolListCacheTests
{
    [Test]
    public async Task ToolsListShowsACommitFromAnotherConnectionAtOnce()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var before = await admin.GetFromJsonAsync<JsonElement>("/api/tools");
        Assert.That(before.EnumerateArray().Single(t => t.GetProperty("id").GetString() == "broca").GetProperty("status").GetString(), Is.EqualTo("Healthy"));

        using (var db = app.OpenDatabase())
        {
            db.Execute("UPDATE tools SET status = 'Degraded' WHERE id = 'broca'");
            db.Execute("INSERT INTO tools (id, name, category) VALUES ('a-new-tool', 'A new tool', 'master')");
        }

        var after = await admin.GetFromJsonAsync<JsonElement>("/api/tools");
        Assert.That(after.EnumerateArray().Single(t => t.GetProperty("id").GetString() == "broca").GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(after.GetArrayLength(), Is.EqualTo(before.GetArrayLength() + 1));
        var filtered = await admin.GetFromJsonAsync<JsonElement>("/api/tools?category=master&enabled=true");
        Assert.That(filtered.EnumerateArray().Select(t => t.GetProperty("id").GetString()),
            Is.EqualTo(new[] { "a-new-tool", "backup-restore", "create-agent", "cron-scheduler", "install-tool", "system-settings" }),
            "filtered from the cache in the SQL order: category, then name (binary), then id");
    }
}
