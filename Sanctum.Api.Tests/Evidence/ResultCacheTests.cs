using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;
using Sanctum.Api.Tests.ChatBridge;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// Cached reads (sessions, tools, agents, status, users pages) never outlive a commit, whoever makes it: this process
/// through the API, or another connection writing the database file directly (as another process would).
/// </summary>
public class ResultCacheTests
{
    private sealed record TestKey(string Name);

    /// <summary>
    /// Requests that miss one key together share one load (after a commit every request in flight misses at once), and a
    /// failed load is not kept: the next miss loads again.
    /// </summary>
    [Test]
    public async Task ConcurrentMissesOfOneKeyShareOneLoadAndAFailedLoadIsNotKept()
    {
        await using var app = new SanctumApplication();
        var cache = app.Services.GetRequiredService<ResultCache>();
        var loads = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = new TestKey("shared-" + Guid.NewGuid().ToString("N"));
        async Task<string> Load(TestKey k)
        {
            Interlocked.Increment(ref loads);
            await release.Task;
            return $"{k.Name} loaded";
        }
        var waiting = Enumerable.Range(0, 32).Select(_ => cache.GetAsync(key, Load).AsTask()).ToList();
        Assert.That(waiting.Any(t => t.IsCompleted), Is.False, "every miss waits for the one load");
        release.SetResult();
        var results = await Task.WhenAll(waiting);
        // A commit by the host's background work between two misses starts a new generation, whose first miss loads again.
        Assert.That(loads, Is.InRange(1, 2), "32 concurrent misses ran the load once (twice if a commit came between them)");
        Assert.That(results, Has.All.EqualTo($"{key.Name} loaded"));

        var failing = new TestKey("failing-" + Guid.NewGuid().ToString("N"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await cache.GetAsync<TestKey, string>(failing, _ => throw new InvalidOperationException("database gone")));
        Assert.That(await cache.GetAsync(failing, k => Task.FromResult("second try")), Is.EqualTo("second try"), "the failure was not kept");
    }

    [Test]
    public async Task ACachedResultIsLoadedOnceUntilAnyConnectionCommitsAndNothingIsKeptForNothingFound()
    {
        await using var app = new SanctumApplication();
        var cache = app.Services.GetRequiredService<ResultCache>();
        var version = app.Services.GetRequiredService<DataVersion>();
        // The host's background work (scheduler, checks; on PostgreSQL also the listener hearing the test's own commit a
        // moment later) may commit at any time, which empties the cache too: a round in which the version moved where
        // the test made no commit is run again, on keys of its own.
        for (var round = 1; ; round++)
        {
            var loads = 0;
            string Load(TestKey key) => $"{key.Name} {++loads}";
            TestKey a = new($"a{round}"), b = new($"b{round}");
            var start = version.Current();
            var (first, again, other) = (cache.Get(a, Load), cache.Get(a, Load), cache.Get(b, Load));
            var quietBefore = version.Current() == start;
            using (var db = app.OpenDatabase()) db.Execute("UPDATE tools SET name = name || '!' WHERE id = 'broca'");
            // Read before the first load after the commit: a later move (the listener hearing that commit) between the
            // two loads would otherwise go unseen by the check below.
            var committed = version.Current();
            var afterCommit = cache.Get(a, Load);
            var hit = cache.Get(a, Load);
            var quietAfter = version.Current() == committed;
            if (!(quietBefore && quietAfter) && round < 10) continue;
            Assert.That(first, Is.EqualTo($"a{round} 1"));
            Assert.That(again, Is.EqualTo($"a{round} 1"), "an equal key is a hit");
            Assert.That(other, Is.EqualTo($"b{round} 2"));
            Assert.That(afterCommit, Is.EqualTo($"a{round} 3"), "a commit by another connection empties the cache");
            Assert.That(hit, Is.EqualTo($"a{round} 3"));
            break;
        }

        var misses = 0;
        Assert.That(cache.Find<TestKey, string>(new TestKey("none"), _ => { misses++; return null; }), Is.Null);
        Assert.That(cache.Find<TestKey, string>(new TestKey("none"), _ => { misses++; return null; }), Is.Null);
        Assert.That(misses, Is.EqualTo(2), "nothing found is looked up again, never remembered");
    }

    [Test]
    public async Task RelayPollsInTheSameSecondCommitNothingSoCachedReadsKeepHittingBetweenThem()
    {
        TestEngine.RequireSqlite("on PostgreSQL every bridge request counts against the limit all instances share, a commit");
        await using var app = new SanctumApplication();
        var relay = app.CreateKeyClient(app.BridgeKey());
        var version = app.Services.GetRequiredService<DataVersion>();
        // The first poll in a second writes the poll time; the next ones in the same second write nothing. Two polls
        // can straddle a second, so the claim is that some pair of polls in one second leaves the version alone.
        var unchanged = false;
        for (var attempt = 0; attempt < 5 && !unchanged; attempt++)
        {
            await (await relay.GetAsync("/api/v1/inbox")).BridgeDataAsync();
            var before = version.Current();
            var second = DateTime.UtcNow.Second;
            await (await relay.GetAsync("/api/v1/inbox")).BridgeDataAsync();
            unchanged = version.Current() == before && DateTime.UtcNow.Second == second;
        }
        Assert.That(unchanged, Is.True, "an empty poll within the same second must not commit anything");
    }

    [Test]
    public async Task SignOutTakesEffectOnTheVeryNextRequest()
    {
        await using var app = new SanctumApplication();
        var client = await app.CreateClientForRoleAsync("viewer");
        await AssertStatusTwiceAsync(client, "/api/tools", HttpStatusCode.OK);
        Assert.That((await client.PostAsync("/api/auth/logout", null)).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task ASessionDeletedByAnotherConnectionEndsOnTheVeryNextRequest()
    {
        await using var app = new SanctumApplication();
        var client = await app.CreateClientForRoleAsync("viewer", "gone-viewer");
        await AssertStatusTwiceAsync(client, "/api/tools", HttpStatusCode.OK);
        using (var db = app.OpenDatabase())
            db.Execute("DELETE FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE username = 'gone-viewer')");
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task DeactivationDemotionAndPasswordResetThroughTheApiTakeEffectOnTheVeryNextRequest()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var (deactivated, deactivatedId) = await UserAsync(app, "user", "deactivated");
        var (demoted, demotedId) = await UserAsync(app, "admin", "demoted");
        var (reset, resetId) = await UserAsync(app, "user", "reset");

        await AssertStatusTwiceAsync(deactivated, "/api/tools", HttpStatusCode.OK);
        Assert.That((await admin.PatchAsJsonAsync($"/api/users/{deactivatedId}", new { status = "inactive" })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await deactivated.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        await AssertStatusTwiceAsync(demoted, "/api/users", HttpStatusCode.OK);
        Assert.That((await admin.PatchAsJsonAsync($"/api/users/{demotedId}", new { role = "viewer" })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await demoted.GetAsync("/api/users")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await demoted.GetFromJsonAsync<JsonElement>("/api/auth/me")).GetProperty("role").GetString(), Is.EqualTo("viewer"));

        await AssertStatusTwiceAsync(reset, "/api/tools", HttpStatusCode.OK);
        Assert.That((await admin.PostAsJsonAsync($"/api/users/{resetId}/password", new { })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await reset.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task DeactivationDemotionAndPasswordResetByAnotherConnectionTakeEffectOnTheVeryNextRequest()
    {
        await using var app = new SanctumApplication();
        var (deactivated, deactivatedId) = await UserAsync(app, "user", "deactivated");
        var (demoted, demotedId) = await UserAsync(app, "admin", "demoted");
        var (reset, resetId) = await UserAsync(app, "user", "reset");
        using var db = app.OpenDatabase();

        await AssertStatusTwiceAsync(deactivated, "/api/tools", HttpStatusCode.OK);
        db.Execute("UPDATE users SET status = 'inactive' WHERE id = @deactivatedId", new { deactivatedId });
        Assert.That((await deactivated.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        await AssertStatusTwiceAsync(demoted, "/api/users", HttpStatusCode.OK);
        db.Execute("UPDATE users SET role = 'viewer' WHERE id = @demotedId", new { demotedId });
        Assert.That((await demoted.GetAsync("/api/users")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await demoted.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "still a reader");

        // A reset as the reset-admin-password command makes it: a new hash that must be changed. The session stays,
        // but until the change it may do nothing but change the password.
        await AssertStatusTwiceAsync(reset, "/api/tools", HttpStatusCode.OK);
        db.Execute("UPDATE users SET password_hash = @hash, must_change_password = TRUE WHERE id = @resetId",
            new { resetId, hash = BCrypt.Net.BCrypt.HashPassword("a-new-temporary-1", 4) });
        Assert.That((await reset.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await reset.GetFromJsonAsync<JsonElement>("/api/auth/me")).GetProperty("must_change_password").GetBoolean(), Is.True);
    }

    [Test]
    public async Task AnAccessTokenStopsOnTheVeryNextRequestWhenItsOwnerIsDeactivatedByAnotherConnection()
    {
        await using var app = new SanctumApplication();
        var (owner, ownerId) = await UserAsync(app, "user", "token-owner");
        var created = await (await owner.PostAsJsonAsync("/api/auth/tokens", new { name = "script", scope = "read", expires_in_days = 1 })).JsonAsync();
        var pat = app.CreateClient();
        pat.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("token").GetString());
        await AssertStatusTwiceAsync(pat, "/api/tools", HttpStatusCode.OK);
        using (var db = app.OpenDatabase()) db.Execute("UPDATE users SET status = 'inactive' WHERE id = @ownerId", new { ownerId });
        Assert.That((await pat.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task StatusAgentsAndUsersShowACommitFromAnotherConnectionOnTheVeryNextRequest()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var viewer = await app.CreateClientForRoleAsync("viewer");
        for (var i = 0; i < 2; i++)
        {
            Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/status")).GetProperty("attention").EnumerateArray()
                .Select(a => a.GetProperty("id").GetString()), Does.Not.Contain("broca"));
            Assert.That(Ids(await viewer.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Contain("athena"));
            Assert.That(Ids(await admin.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Contain("athena"));
        }
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/users?search=newcomer");
        Assert.That(users.GetProperty("total").GetInt64(), Is.Zero);
        var page = await admin.GetFromJsonAsync<JsonElement>("/api/users");

        using (var db = app.OpenDatabase())
        {
            db.Execute("UPDATE tools SET status = 'Degraded' WHERE id = 'broca'");
            db.Execute("""UPDATE agents SET visible_to_roles = '["admin"]', name = 'Athena 2' WHERE id = 'athena'""");
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES ('newcomer', 'newcomer@example.test', 'x', 'user')");
        }

        var status = await admin.GetFromJsonAsync<JsonElement>("/api/status");
        Assert.That(status.GetProperty("attention").EnumerateArray().Select(a => a.GetProperty("id").GetString()), Does.Contain("broca"));
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(Ids(await viewer.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Not.Contain("athena"), "hidden from viewers now");
        var athena = (await admin.GetFromJsonAsync<JsonElement>("/api/agents")).EnumerateArray().Single(a => a.GetProperty("id").GetString() == "athena");
        Assert.That(athena.GetProperty("name").GetString(), Is.EqualTo("Athena 2"));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/users?search=newcomer")).GetProperty("total").GetInt64(), Is.EqualTo(1));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/users")).GetProperty("total").GetInt64(),
            Is.EqualTo(page.GetProperty("total").GetInt64() + 1));

        // The last relay poll is stored too: a poll written by another process shows at once.
        using (var db = app.OpenDatabase())
            db.Execute("INSERT INTO chat_relay_polls (relay_scope, last_poll_at, connected_since) VALUES ('athena', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z')");
        athena = (await admin.GetFromJsonAsync<JsonElement>("/api/agents")).EnumerateArray().Single(a => a.GetProperty("id").GetString() == "athena");
        Assert.That(athena.GetProperty("last_relay_poll_at").GetString(), Is.EqualTo("2026-01-02T03:04:05Z"));
    }

    [Test]
    public async Task EachViewerGetsTheStatusAndAgentsTheyMaySeeWhateverWasCachedForAnother()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var viewer = await app.CreateClientForRoleAsync("viewer");
        using (var db = app.OpenDatabase())
            db.Execute("""UPDATE agents SET visible_to_roles = '["admin"]', status = 'Degraded', status_source = 'manual' WHERE id = 'athena'""");

        // The admin's answers are cached first; the viewer's must not be taken from them, nor the other way round.
        Assert.That(Ids(await admin.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Contain("athena"));
        Assert.That(Ids(await viewer.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Not.Contain("athena"));
        Assert.That(Ids((await admin.GetFromJsonAsync<JsonElement>("/api/status")).GetProperty("attention")), Does.Contain("athena"));
        Assert.That(Ids((await viewer.GetFromJsonAsync<JsonElement>("/api/status")).GetProperty("attention")), Does.Not.Contain("athena"));
        Assert.That(Ids(await admin.GetFromJsonAsync<JsonElement>("/api/agents")), Does.Contain("athena"));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/tools?category=athena")).GetArrayLength(), Is.GreaterThan(0));
        Assert.That((await viewer.GetFromJsonAsync<JsonElement>("/api/tools?category=athena")).GetArrayLength(), Is.Zero);
    }

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

    private static IEnumerable<string?> Ids(JsonElement list) => list.EnumerateArray().Select(a => a.GetProperty("id").GetString());

    /// <summary>Twice, so the second answer comes from the cache the first one filled.</summary>
    private static async Task AssertStatusTwiceAsync(HttpClient client, string path, HttpStatusCode status)
    {
        for (var i = 0; i < 2; i++) Assert.That((await client.GetAsync(path)).StatusCode, Is.EqualTo(status), path);
    }

    private static async Task<(HttpClient Client, long Id)> UserAsync(SanctumApplication app, string role, string username)
    {
        var client = await app.CreateClientForRoleAsync(role, username);
        using var db = app.OpenDatabase();
        return (client, db.QuerySingle<long>("SELECT id FROM users WHERE username = @username", new { username }));
    }
}
