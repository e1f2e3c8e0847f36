using System.Security.Cryptography;
using System.Text;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Item 12: personal access tokens for scripts.</summary>
public class AccessTokensTests : ManagementFixture
{
    private async Task<JsonElement> CreateAsync(HttpClient client, string scope, string name = "script", int days = 30)
    {
        var response = await client.PostAsJsonAsync("/api/auth/tokens", new { name, expires_in_days = days, scope });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private HttpClient Bearer(string token) => _app.CreateClient().WithToken(token);

    [Test]
    public async Task ATokenIsShownOnceAndOnlyItsSha256IsStored()
    {
        var created = await CreateAsync(Admin, "write", "backup script");
        var token = created.GetProperty("token").GetString()!;
        Assert.That(token, Does.StartWith("sanctum_pat_"));
        Assert.That(created.GetProperty("scope").GetString(), Is.EqualTo("write"));

        using var db = _app.OpenDatabase();
        var stored = db.QuerySingle<string>("SELECT token_hash FROM access_tokens WHERE id = @id", new { id = created.GetProperty("id").GetInt64() });
        Assert.That(stored, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))));
        var listed = await Admin.GetStringAsync("/api/auth/tokens");
        Assert.That(listed, Does.Contain("backup script").And.Not.Contain(token).And.Not.Contain(stored));
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AReadTokenReadsButEveryWriteIs403()
    {
        var token = (await CreateAsync(Admin, "read")).GetProperty("token").GetString()!;
        var client = Bearer(token);
        Assert.That((await client.GetAsync("/api/users")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await _app.AssertRefusedAsync(client, new Call("PATCH", "/api/tools/backup-restore", """{"name":"Renamed"}"""), HttpStatusCode.Forbidden);
        await _app.AssertRefusedAsync(client, new Call("POST", "/api/users", """{"username":"via_read","email":"r@example.test"}"""), HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task AWriteTokenIsCappedByItsOwnersRole()
    {
        var viewer = await _app.CreateClientForRoleAsync("viewer");
        var token = (await CreateAsync(viewer, "write")).GetProperty("token").GetString()!;
        var client = Bearer(token);
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await _app.AssertRefusedAsync(client, new Call("PATCH", "/api/tools/backup-restore", """{"name":"Renamed"}"""), HttpStatusCode.Forbidden);
        await _app.AssertRefusedAsync(client, new Call("GET", "/api/users"), HttpStatusCode.Forbidden);

        var admin = Bearer((await CreateAsync(Admin, "write")).GetProperty("token").GetString()!);
        var patched = await admin.PatchAsJsonAsync("/api/tools/backup-restore", new { description = "Backups, by token" });
        Assert.That(patched.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patched.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task ATokenCannotManageTokensChangeThePasswordOrRideACookie()
    {
        var token = (await CreateAsync(Admin, "write")).GetProperty("token").GetString()!;
        var client = Bearer(token);
        await (await client.PostAsJsonAsync("/api/auth/tokens", new { name = "child", expires_in_days = 1, scope = "write" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await client.PostAsJsonAsync("/api/auth/password", new { current_password = SanctumApplication.AdminPassword, new_password = "another-password-9" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        var cookie = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
        cookie.Headers.Add("Cookie", $"sanctum_session={token}");
        Assert.That((await _app.CreateClient().SendAsync(cookie)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [TestCase("deactivate")]
    [TestCase("demote")]
    [TestCase("reset")]
    public async Task DeactivatingDemotingOrResettingTheOwnerEndsTheirTokens(string action)
    {
        var username = $"own{Guid.NewGuid():N}"[..16];
        var owner = await _app.CreateClientForRoleAsync("user", username);
        var token = (await CreateAsync(owner, "write")).GetProperty("token").GetString()!;
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        long id;
        using (var db = _app.OpenDatabase()) id = db.ExecuteScalar<long>("SELECT id FROM users WHERE username = @username", new { username });

        var response = action switch
        {
            "deactivate" => await Admin.DeleteAsync($"/api/users/{id}"),
            "demote" => await Admin.PatchAsJsonAsync($"/api/users/{id}", new { role = "viewer" }),
            _ => await Admin.PostAsJsonAsync($"/api/users/{id}/password", new { }),
        };
        Assert.That(response.IsSuccessStatusCode, Is.True, await response.Content.ReadAsStringAsync());
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM access_tokens WHERE user_id = @id", new { id }), Is.Zero);
    }

    [Test]
    public async Task ATokenNeverPassesAPendingPasswordChange()
    {
        var username = $"pend{Guid.NewGuid():N}"[..16];
        var owner = await _app.CreateClientForRoleAsync("user", username);
        var token = (await CreateAsync(owner, "write")).GetProperty("token").GetString()!;
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE users SET must_change_password = TRUE WHERE username = @username", new { username });
        var problem = await (await Bearer(token).GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(problem.GetProperty("type").GetString(), Does.EndWith("password-change-required"));
        await (await Bearer(token).GetAsync("/api/auth/me")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task ExpiredAndRevokedTokensAreRefused()
    {
        var created = await CreateAsync(Admin, "read");
        var token = created.GetProperty("token").GetString()!;
        var id = created.GetProperty("id").GetInt64();
        using (var db = _app.OpenDatabase()) db.Execute("UPDATE access_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = @id", new { id });
        Assert.That((await Bearer(token).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        var other = await CreateAsync(Admin, "read");
        Assert.That((await Admin.DeleteAsync($"/api/auth/tokens/{other.GetProperty("id").GetInt64()}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await Bearer(other.GetProperty("token").GetString()!).GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task UsersSeeAndRevokeOnlyTheirOwnWhileAdminsSeeAndRevokeAnyones()
    {
        var user = await _app.CreateClientForRoleAsync("user");
        var mine = await CreateAsync(user, "read", "mine");
        var admins = await CreateAsync(Admin, "read", "the admin's");

        var listed = await user.GetFromJsonAsync<JsonElement>("/api/auth/tokens");
        Assert.That(listed.EnumerateArray().Select(t => t.GetProperty("name").GetString()), Is.EqualTo(new[] { "mine" }));
        await (await user.GetAsync("/api/auth/tokens?all=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await user.DeleteAsync($"/api/auth/tokens/{admins.GetProperty("id").GetInt64()}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var all = await Admin.GetFromJsonAsync<JsonElement>("/api/auth/tokens?all=true");
        Assert.That(all.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()), Does.Contain(mine.GetProperty("id").GetInt64()));
        Assert.That((await Admin.DeleteAsync($"/api/auth/tokens/{mine.GetProperty("id").GetInt64()}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
    }

    [TestCase("""{"name":"","expires_in_days":30,"scope":"read"}""", "name")]
    [TestCase("""{"name":"x","expires_in_days":0,"scope":"read"}""", "expires_in_days")]
    [TestCase("""{"name":"x","expires_in_days":366,"scope":"read"}""", "expires_in_days")]
    [TestCase("""{"name":"x","scope":"read"}""", "expires_in_days")]
    [TestCase("""{"name":"x","expires_in_days":30,"scope":"admin"}""", "scope")]
    [TestCase("""{"name":"x","expires_in_days":30}""", "scope")]
    [TestCase("""{"name":"x","expires_in_days":"thirty","scope":"read"}""", "expires_in_days")]
    public async Task BadInputIsA400ThatCreatesNothing(string body, string field)
    {
        using var db = _app.OpenDatabase();
        var before = db.ExecuteScalar<long>("SELECT COUNT(*) FROM access_tokens");
        var problem = await (await Admin.PostAsync("/api/auth/tokens", Support.JsonBody(body))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { field }));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM access_tokens"), Is.EqualTo(before));
    }

    [Test]
    public async Task AnonymousCallersCannotTouchTokens()
    {
        Assert.That((await _clients.Anonymous.GetAsync("/api/auth/tokens")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await _clients.Anonymous.PostAsJsonAsync("/api/auth/tokens", new { name = "x", expires_in_days = 1, scope = "read" })).StatusCode,
            Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That((await Bearer("sanctum_pat_not-a-real-token").GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
