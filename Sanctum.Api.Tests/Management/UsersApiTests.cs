
namespace Sanctum.Api.Tests.Management;

/// <summary>/api/users: listing, creating (with a password or a temporary one), changing, deactivating, resets, unlocks.</summary>
public class UsersApiTests : ManagementFixture
{
    private static string NewName(string prefix = "u") => prefix + "_" + Guid.NewGuid().ToString("N")[..10];

    private dynamic? Row(long id) => Row(_app, id);

    private static dynamic? Row(SanctumApplication app, long id)
    {
        using var db = app.OpenDatabase();
        return db.QuerySingleOrDefault("SELECT username, email, password_hash, role, status, must_change_password, failed_login_attempts, locked_until FROM users WHERE id = @id", new { id });
    }

    private long Sessions(long id)
    {
        using var db = _app.OpenDatabase();
        return db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions WHERE user_id = @id", new { id });
    }

    private async Task<(long Id, string Username)> CreateUserAsync(string role = "user", string password = "a-good-password", string? username = null)
    {
        username ??= NewName();
        var response = await Admin.PostAsJsonAsync("/api/users", new { username, email = $"{username}@example.com", role, password });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return ((await response.JsonAsync()).GetProperty("id").GetInt64(), username);
    }

    private async Task<HttpClient> SignInAsync(string username, string password)
    {
        var token = await SanctumApplication.LoginAsync(_app.CreateClient(), username, password);
        Assert.That(token, Is.Not.Null, $"{username} could not sign in");
        return _app.CreateClient().WithToken(token!);
    }

    [Test]
    public async Task AdminCreatesAUserWithAPassword()
    {
        var username = NewName("Alice");
        var response = await Admin.PostAsJsonAsync("/api/users", new { username, email = "Alice." + username + "@Example.com", role = "viewer", password = "alice-password" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), text);
        var body = JsonDocument.Parse(text).RootElement;
        var id = body.GetProperty("id").GetInt64();
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/users/{id}"));
        Assert.That(body.GetProperty("username").GetString(), Is.EqualTo(username));
        Assert.That(body.GetProperty("role").GetString(), Is.EqualTo("viewer"));
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("active"));
        Assert.That(body.GetProperty("must_change_password").GetBoolean(), Is.False);
        Assert.That(body.TryGetProperty("temporary_password", out _), Is.False);
        Assert.That(text, Does.Not.Contain("password_hash").And.Not.Contain("$2"));

        var row = Row(id)!;
        Assert.That((string)row.role, Is.EqualTo("viewer"));
        Assert.That(Convert.ToInt64(row.must_change_password), Is.EqualTo(0));
        Assert.That(BCrypt.Net.BCrypt.Verify("alice-password", (string)row.password_hash), Is.True);

        var viewer = await SignInAsync(username, "alice-password");
        Assert.That((await viewer.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ARoleIsUserUnlessSaid()
    {
        var username = NewName();
        var response = await Admin.PostAsJsonAsync("/api/users", new { username, email = username + "@example.com", password = "a-good-password" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((string)Row((await response.JsonAsync()).GetProperty("id").GetInt64())!.role, Is.EqualTo("user"));
    }

    [TestCase(null)]
    [TestCase("")]
    public async Task WithoutAPasswordATemporaryOneIsReturnedOnce(string? password)
    {
        var username = NewName();
        var response = await Admin.PostAsJsonAsync("/api/users", new { username, email = username + "@example.com", role = "user", password });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        var temporary = body.GetProperty("temporary_password").GetString()!;
        Assert.That(temporary, Has.Length.EqualTo(16));
        Assert.That(body.GetProperty("must_change_password").GetBoolean(), Is.True);
        var id = body.GetProperty("id").GetInt64();
        var row = Row(id)!;
        Assert.That(Convert.ToInt64(row.must_change_password), Is.EqualTo(1));
        Assert.That(BCrypt.Net.BCrypt.Verify(temporary, (string)row.password_hash), Is.True);
        Assert.That((string)row.password_hash, Does.Not.Contain(temporary));

        var again = await Admin.GetStringAsync($"/api/users/{id}");
        Assert.That(again, Does.Not.Contain("temporary_password").And.Not.Contain(temporary));
    }

    [Test]
    public async Task ATemporaryPasswordForcesAChangeBeforeAnythingElse()
    {
        var username = NewName();
        var created = await (await Admin.PostAsJsonAsync("/api/users", new { username, email = username + "@example.com", role = "user" })).JsonAsync();
        var temporary = created.GetProperty("temporary_password").GetString()!;
        var client = await SignInAsync(username, temporary);

        var refused = await (await client.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(refused.GetProperty("type").GetString(), Does.EndWith("password-change-required"));
        Assert.That((await client.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = temporary, new_password = "my-own-password" });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Convert.ToInt64(Row(created.GetProperty("id").GetInt64())!.must_change_password), Is.EqualTo(0));
    }

    public static IEnumerable<TestCaseData> InvalidCreates()
    {
        TestCaseData Case(object body, string field, string name) => new TestCaseData(JsonSerializer.Serialize(body), field).SetName("CreateUserRefuses" + name);
        yield return Case(new { email = "x@example.com" }, "username", "AMissingUsername");
        yield return Case(new { username = "ab", email = "x@example.com" }, "username", "ATwoCharacterUsername");
        yield return Case(new { username = new string('u', 51), email = "x@example.com" }, "username", "A51CharacterUsername");
        yield return Case(new { username = "has space", email = "x@example.com" }, "username", "AUsernameWithASpace");
        yield return Case(new { username = "námé", email = "x@example.com" }, "username", "ANonAsciiUsername");
        yield return Case(new { username = "newline\n", email = "x@example.com" }, "username", "AUsernameWithATrailingNewline");
        yield return Case(new { username = "fine_name" }, "email", "AMissingEmail");
        yield return Case(new { username = "fine_name", email = "not-an-email" }, "email", "AnAddressWithoutAt");
        yield return Case(new { username = "fine_name", email = "a@b" }, "email", "AnAddressWithoutADomain");
        yield return Case(new { username = "fine_name", email = "a b@example.com" }, "email", "AnAddressWithASpace");
        yield return Case(new { username = "fine_name", email = "Name <a@example.com>" }, "email", "AnAddressWithADisplayName");
        yield return Case(new { username = "fine_name", email = new string('a', 64) + "@" + new string('b', 63) + "." + new string('c', 63) + "." + new string('d', 63) + ".com" }, "email", "AnAddressOver254Characters");
        yield return Case(new { username = "fine_name", email = "x@example.com", role = "root" }, "role", "AnUnknownRole");
        yield return Case(new { username = "fine_name", email = "x@example.com", role = "Admin" }, "role", "ARoleInTheWrongCase");
        yield return Case(new { username = "fine_name", email = "x@example.com", password = "short" }, "password", "AShortPassword");
        yield return Case(new { username = "fine_name", email = "x@example.com", password = new string('é', 40) }, "password", "APasswordOver72Bytes");
    }

    [TestCaseSource(nameof(InvalidCreates))]
    public Task CreateRefusesInvalidFields(string json, string field) =>
        _app.AssertInvalidAsync(Admin, new Call("POST", "/api/users", json), field);

    [Test]
    public async Task ATakenUsernameOrEmailIs409WhateverItsCase()
    {
        var (_, username) = await CreateUserAsync();
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users", $$"""{"username":"{{username}}","email":"other-{{username}}@example.com"}"""), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users", $$"""{"username":"{{username.ToUpperInvariant()}}","email":"other-{{username}}@example.com"}"""), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users", $$"""{"username":"x{{username}}","email":"{{username.ToUpperInvariant()}}@EXAMPLE.com"}"""), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users", """{"username":"ADMIN","email":"someone@example.com"}"""), HttpStatusCode.Conflict);
    }

    [Test]
    public async Task ConcurrentCreatesOfOneUsernameGiveOne201AndOnly409s()
    {
        var username = NewName();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Admin.PostAsJsonAsync("/api/users", new { username, email = $"{i}{username}@example.com", password = "a-good-password" })));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(5), string.Join(",", statuses));
    }

    [Test]
    public async Task ConcurrentCreatesOfOneUsernameInDifferentCasesGiveOne201()
    {
        // The unique index on lower(username) decides, not a check before the insert: on PostgreSQL the requests
        // really run at once.
        var username = NewName();
        var spellings = new[] { username, username.ToUpperInvariant(), char.ToUpperInvariant(username[0]) + username[1..] };
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Admin.PostAsJsonAsync("/api/users", new { username = spellings[i % 3], email = $"{i}{username}@example.com", password = "a-good-password" })));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == HttpStatusCode.Conflict), Is.EqualTo(5), string.Join(",", statuses));
    }

    [Test]
    public async Task AdminGetsOneUser()
    {
        var (id, username) = await CreateUserAsync("viewer");
        var response = await Admin.GetAsync($"/api/users/{id}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(JsonDocument.Parse(text).RootElement.GetProperty("username").GetString(), Is.EqualTo(username));
        Assert.That(text, Does.Not.Contain("password_hash"));
    }

    [Test]
    public async Task AMissingUserIs404()
    {
        await (await Admin.GetAsync("/api/users/987654")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync("/api/users/not-a-number")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("PATCH", "/api/users/987654", """{"role":"user"}"""), HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/users/987654"), HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users/987654/password", "{}"), HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("POST", "/api/users/987654/unlock"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ListingPagesSearchesAndFilters()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        foreach (var (name, role) in new[] { ("Zed", "viewer"), ("amy", "user"), ("BOB", "user"), ("cat", "admin") })
        {
            var response = await Admin.PostAsJsonAsync("/api/users", new { username = $"{name}_{tag}", email = $"{name.ToLowerInvariant()}.{tag}@List.example", role, password = "a-good-password" });
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        var page = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?search={tag.ToUpperInvariant()}&limit=2&offset=1");
        Assert.That(page.GetProperty("total").GetInt64(), Is.EqualTo(4));
        Assert.That(page.GetProperty("limit").GetInt32(), Is.EqualTo(2));
        Assert.That(page.GetProperty("offset").GetInt32(), Is.EqualTo(1));
        Assert.That(page.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("username").GetString()), Is.EqualTo(new[] { $"Zed_{tag}", $"amy_{tag}" }),
            "ordered by username (binary: upper case first)");

        var byEmail = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?search=bob.{tag}@list");
        Assert.That(byEmail.GetProperty("items").EnumerateArray().Single().GetProperty("username").GetString(), Is.EqualTo($"BOB_{tag}"));

        var users = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?search={tag}&role=user");
        Assert.That(users.GetProperty("total").GetInt64(), Is.EqualTo(2));

        var defaults = await Admin.GetFromJsonAsync<JsonElement>("/api/users");
        Assert.That(defaults.GetProperty("limit").GetInt32(), Is.EqualTo(50));
        Assert.That(defaults.GetProperty("offset").GetInt32(), Is.EqualTo(0));
        Assert.That(defaults.GetRawText(), Does.Not.Contain("password_hash"));
    }

    [Test]
    public async Task StatusFilterFindsInactiveUsers()
    {
        var (id, username) = await CreateUserAsync();
        await Admin.DeleteAsync($"/api/users/{id}");
        var inactive = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?status=inactive&search={username}");
        Assert.That(inactive.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetInt64(), Is.EqualTo(id));
        var active = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?status=active&search={username}");
        Assert.That(active.GetProperty("total").GetInt64(), Is.EqualTo(0));
    }

    [Test]
    public async Task TheLockedFilterFindsUsersWhoseLockoutIsRunningButNotAnEndedOne()
    {
        var tag = "lk" + Guid.NewGuid().ToString("N")[..8];
        var (running, _) = await CreateUserAsync(username: tag + "_running");
        var (ended, _) = await CreateUserAsync(username: tag + "_ended");
        var (statusLocked, _) = await CreateUserAsync(username: tag + "_status");
        var (plain, _) = await CreateUserAsync(username: tag + "_plain");
        using (var db = _app.OpenDatabase())
        {
            db.Execute("UPDATE users SET failed_login_attempts = 5, locked_until = '2999-01-01T00:00:00Z' WHERE id = @running", new { running });
            db.Execute("UPDATE users SET failed_login_attempts = 5, locked_until = '2000-01-01T00:00:00Z' WHERE id = @ended", new { ended });
            db.Execute("UPDATE users SET status = 'locked' WHERE id = @statusLocked", new { statusLocked });
        }

        var locked = await Admin.GetFromJsonAsync<JsonElement>($"/api/users?status=locked&search={tag}");
        var ids = locked.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).Order().ToArray();
        Assert.That(ids, Is.EqualTo(new[] { running, statusLocked }.Order().ToArray()));
        Assert.That(locked.GetProperty("total").GetInt64(), Is.EqualTo(2));
        Assert.That(ids, Does.Not.Contain(plain).And.Not.Contain(ended));
    }

    [Test]
    public async Task SearchFindsAnyPartOfAUsernameOrEmailAndFollowsChanges()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var (id, _) = await CreateUserAsync(username: $"Mid{tag}Dle");
        async Task<long[]> Find(string term) =>
            (await Admin.GetFromJsonAsync<JsonElement>($"/api/users?search={Uri.EscapeDataString(term)}"))
                .GetProperty("items").EnumerateArray().Select(u => u.GetProperty("id").GetInt64()).ToArray();

        Assert.That(await Find(tag.ToUpperInvariant()), Is.EqualTo(new[] { id }), "a middle part, any case");
        Assert.That(await Find($"{tag}dle@example"), Is.EqualTo(new[] { id }), "a part of the email");
        Assert.That(await Find($"\"{tag}"), Is.Empty, "a quote in the term is matched literally, not parsed");

        var patch = await Admin.PatchAsJsonAsync($"/api/users/{id}", new { email = $"renamed.{tag}@elsewhere.test" });
        Assert.That(patch.StatusCode, Is.EqualTo(HttpStatusCode.OK), await patch.Content.ReadAsStringAsync());
        Assert.That(await Find($"{tag}@elsewhere"), Is.EqualTo(new[] { id }));
        Assert.That(await Find($"{tag}dle@example"), Is.Empty, "the old email is no longer found");
    }

    [Test]
    public async Task SearchMatchesPercentAndUnderscoreLiterally()
    {
        await CreateUserAsync(username: "under_score_" + Guid.NewGuid().ToString("N")[..4]);
        var all = (await Admin.GetFromJsonAsync<JsonElement>("/api/users?limit=200")).GetProperty("total").GetInt64();
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>("/api/users?search=%25")).GetProperty("total").GetInt64(), Is.EqualTo(0));
        var underscores = (await Admin.GetFromJsonAsync<JsonElement>("/api/users?search=_")).GetProperty("total").GetInt64();
        Assert.That(underscores, Is.GreaterThan(0).And.LessThan(all));
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=201", "limit")]
    [TestCase("offset=-1", "offset")]
    [TestCase("role=root", "role")]
    [TestCase("status=gone", "status")]
    public async Task ListingRefusesOutOfRangeParameters(string query, string field)
    {
        var body = await (await Admin.GetAsync($"/api/users?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(body.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { field }));
    }

    [Test]
    public async Task ListingRefusesANonNumericLimit() =>
        await (await Admin.GetAsync("/api/users?limit=many")).AssertProblemAsync(HttpStatusCode.BadRequest);

    [Test]
    public async Task PatchChangesRoleStatusAndEmail()
    {
        var (id, username) = await CreateUserAsync("viewer");
        var response = await Admin.PatchAsJsonAsync($"/api/users/{id}", new { role = "admin", email = $"new-{username}@example.com" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await response.Content.ReadAsStringAsync()), Does.Not.Contain("password_hash"));
        var row = Row(id)!;
        Assert.That((string)row.role, Is.EqualTo("admin"));
        Assert.That((string)row.email, Is.EqualTo($"new-{username}@example.com"));
        Assert.That((string)row.status, Is.EqualTo("active"));

        var locked = await Admin.PatchAsJsonAsync($"/api/users/{id}", new { status = "locked", role = "user" });
        Assert.That(locked.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row(id)!.status, Is.EqualTo("locked"));
    }

    [TestCase("""{"role":"owner"}""", "role")]
    [TestCase("""{"status":"deleted"}""", "status")]
    [TestCase("""{"email":"nope"}""", "email")]
    [TestCase("""{"role":7}""", "role")]
    public async Task PatchRefusesInvalidFields(string json, string field)
    {
        var (id, _) = await CreateUserAsync();
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/users/{id}", json), field);
    }

    [Test]
    public async Task PatchToATakenEmailIs409()
    {
        var (id, _) = await CreateUserAsync();
        await _app.AssertRefusedAsync(Admin, new Call("PATCH", $"/api/users/{id}", """{"email":"ADMIN@sanctum.local"}"""), HttpStatusCode.Conflict);
    }

    [Test]
    public async Task DeactivatingAUserEndsTheirSessions()
    {
        var (id, username) = await CreateUserAsync();
        var client = await SignInAsync(username, "a-good-password");
        Assert.That((await client.GetAsync("/api/tools")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Sessions(id), Is.EqualTo(1));

        var response = await Admin.DeleteAsync($"/api/users/{id}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((string)Row(id)!.status, Is.EqualTo("inactive"), "deactivated, not deleted");
        Assert.That(Sessions(id), Is.EqualTo(0));
        await (await client.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "a-good-password"), Is.Null);
    }

    [Test]
    public async Task PatchingAUserInactiveAlsoEndsTheirSessions()
    {
        var (id, username) = await CreateUserAsync();
        var client = await SignInAsync(username, "a-good-password");
        var response = await Admin.PatchAsJsonAsync($"/api/users/{id}", new { status = "inactive" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Sessions(id), Is.EqualTo(0));
        await (await client.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var back = await Admin.PatchAsJsonAsync($"/api/users/{id}", new { status = "active" });
        Assert.That(back.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "a-good-password"), Is.Not.Null);
    }

    [Test]
    public async Task AdminResetsAPasswordAndTheUserMustChangeIt()
    {
        var (id, username) = await CreateUserAsync();
        var client = await SignInAsync(username, "a-good-password");
        using (var db = _app.OpenDatabase())
            db.Execute("UPDATE users SET failed_login_attempts = 3, locked_until = '2999-01-01T00:00:00Z', status = 'locked' WHERE id = @id", new { id });

        var response = await Admin.PostAsJsonAsync($"/api/users/{id}/password", new { password = "reset-by-admin" });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var body = await response.JsonAsync();
        Assert.That(body.TryGetProperty("temporary_password", out _), Is.False);
        Assert.That(body.GetProperty("must_change_password").GetBoolean(), Is.True);
        var row = Row(id)!;
        Assert.That(Convert.ToInt64(row.must_change_password), Is.EqualTo(1));
        Assert.That((long)row.failed_login_attempts, Is.EqualTo(0));
        Assert.That((object?)row.locked_until, Is.Null);
        Assert.That((string)row.status, Is.EqualTo("active"));
        Assert.That(Sessions(id), Is.EqualTo(0));
        await (await client.GetAsync("/api/auth/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "a-good-password"), Is.Null);
        var fresh = await SignInAsync(username, "reset-by-admin");
        var refused = await (await fresh.GetAsync("/api/tools")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.That(refused.GetProperty("type").GetString(), Does.EndWith("password-change-required"));
    }

    [Test]
    public async Task AResetWithoutAPasswordGeneratesATemporaryOne()
    {
        var (id, username) = await CreateUserAsync();
        var response = await Admin.PostAsync($"/api/users/{id}/password", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var temporary = (await response.JsonAsync()).GetProperty("temporary_password").GetString()!;
        Assert.That(BCrypt.Net.BCrypt.Verify(temporary, (string)Row(id)!.password_hash), Is.True);
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, temporary), Is.Not.Null);
    }

    [Test]
    public async Task AResetRefusesAShortPassword()
    {
        var (id, _) = await CreateUserAsync();
        await _app.AssertInvalidAsync(Admin, new Call("POST", $"/api/users/{id}/password", """{"password":"short"}"""), "password");
    }

    [Test]
    public async Task UnlockClearsTheLockout()
    {
        var (id, username) = await CreateUserAsync();
        for (var i = 0; i < 5; i++) await SanctumApplication.LoginAsync(_app.CreateClient(), username, "wrong-password");
        Assert.That((object?)Row(id)!.locked_until, Is.Not.Null, "five failures lock the account");
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "a-good-password"), Is.Null);

        var response = await Admin.PostAsync($"/api/users/{id}/unlock", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await response.JsonAsync()).GetProperty("locked_until").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var row = Row(id)!;
        Assert.That((object?)row.locked_until, Is.Null);
        Assert.That((long)row.failed_login_attempts, Is.EqualTo(0));
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), username, "a-good-password"), Is.Not.Null);
    }

    [Test]
    public async Task UnlockReactivatesALockedStatus()
    {
        var (id, _) = await CreateUserAsync();
        await Admin.PatchAsJsonAsync($"/api/users/{id}", new { status = "locked" });
        await Admin.PostAsync($"/api/users/{id}/unlock", null);
        Assert.That((string)Row(id)!.status, Is.EqualTo("active"));
    }

    public static IEnumerable<Call> Endpoints() =>
    [
        new("GET", "/api/users"),
        new("GET", "/api/users/1"),
        new("POST", "/api/users", """{"username":"matrix_user","email":"matrix@example.com"}"""),
        new("PATCH", "/api/users/1", """{"role":"viewer"}"""),
        new("DELETE", "/api/users/1"),
        new("POST", "/api/users/1/password", """{"password":"taken-over-1"}"""),
        new("POST", "/api/users/1/unlock"),
    ];

    [TestCaseSource(nameof(Endpoints))]
    public Task AnonymousCannotManageUsers(Call call) => _app.AssertRefusedAsync(_clients.Anonymous, call, HttpStatusCode.Unauthorized);

    [TestCaseSource(nameof(Endpoints))]
    public Task ViewerCannotManageUsers(Call call) => _app.AssertRefusedAsync(_clients.Viewer, call, HttpStatusCode.Forbidden);

    [TestCaseSource(nameof(Endpoints))]
    public Task UserCannotManageUsers(Call call) => _app.AssertRefusedAsync(_clients.User, call, HttpStatusCode.Forbidden);

    [Test]
    public async Task AnAdminWhoMustChangeThePasswordCannotManageUsersYet()
    {
        await using var app = new SanctumApplication();
        var token = await SanctumApplication.LoginAsync(app.CreateClient(), "admin", "admin123");
        var admin = app.CreateClient().WithToken(token!);
        var body = await app.AssertRefusedAsync(admin, new Call("POST", "/api/users", """{"username":"early","email":"early@example.com"}"""), HttpStatusCode.Forbidden);
        Assert.That(body.GetProperty("type").GetString(), Does.EndWith("password-change-required"));
    }
}

/// <summary>The last active admin can never be demoted, deactivated or deleted, not even by two requests at once.</summary>
public class LastAdminTests
{
    private static long ActiveAdmins(SanctumApplication app)
    {
        using var db = app.OpenDatabase();
        return db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'");
    }

    private static readonly Call[] Removals =
    [
        new("PATCH", "/api/users/1", """{"role":"user"}"""),
        new("PATCH", "/api/users/1", """{"role":"viewer","email":"changed@example.com"}"""),
        new("PATCH", "/api/users/1", """{"status":"inactive"}"""),
        new("PATCH", "/api/users/1", """{"status":"locked"}"""),
        new("DELETE", "/api/users/1"),
    ];

    [Test]
    public async Task TheLastActiveAdminCannotBeDemotedDeactivatedOrDeleted()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        foreach (var call in Removals)
        {
            var body = await app.AssertRefusedAsync(admin, call, HttpStatusCode.Conflict);
            Assert.That(body.GetProperty("detail").GetString(), Does.Contain("last active admin"), call.ToString());
        }
        Assert.That(ActiveAdmins(app), Is.EqualTo(1));
        var harmless = await admin.PatchAsJsonAsync("/api/users/1", new { role = "admin", status = "active", email = "boss@example.com" });
        Assert.That(harmless.StatusCode, Is.EqualTo(HttpStatusCode.OK), "staying an active admin is allowed");
    }

    [Test]
    public async Task AnInactiveAdminDoesNotCountAsAnotherAdmin()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        using (var db = app.OpenDatabase())
            db.Execute("INSERT INTO users (username, email, password_hash, role, status) VALUES ('old_admin', 'old@example.com', 'x', 'admin', 'inactive')");
        await app.AssertRefusedAsync(admin, new Call("PATCH", "/api/users/1", """{"role":"user"}"""), HttpStatusCode.Conflict);
    }

    [Test]
    public async Task WithASecondAdminTheFirstMayStepDownButNotTheSecondAfterwards()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var created = await (await admin.PostAsJsonAsync("/api/users", new { username = "second", email = "second@example.com", role = "admin", password = "granite-orbit-55" })).JsonAsync();
        var second = created.GetProperty("id").GetInt64();

        var stepDown = await admin.PatchAsJsonAsync("/api/users/1", new { role = "user" });
        Assert.That(stepDown.StatusCode, Is.EqualTo(HttpStatusCode.OK), await stepDown.Content.ReadAsStringAsync());

        var secondClient = app.CreateClient().WithToken((await SanctumApplication.LoginAsync(app.CreateClient(), "second", "granite-orbit-55"))!);
        await app.AssertRefusedAsync(secondClient, new Call("DELETE", $"/api/users/{second}"), HttpStatusCode.Conflict);
        await app.AssertRefusedAsync(secondClient, new Call("PATCH", $"/api/users/{second}", """{"role":"viewer"}"""), HttpStatusCode.Conflict);
        Assert.That(ActiveAdmins(app), Is.EqualTo(1));
    }

    [Test]
    public async Task TwoAdminsDemotingEachOtherAtOnceLeaveOneActiveAdmin()
    {
        await using var app = new SanctumApplication();
        var first = await app.CreateAdminClientAsync();
        var twin = (await (await first.PostAsJsonAsync("/api/users", new { username = "twin", email = "twin@example.com", role = "admin", password = "tandem-orchid-8" })).JsonAsync())
            .GetProperty("id").GetInt64();
        var second = app.CreateClient().WithToken((await SanctumApplication.LoginAsync(app.CreateClient(), "twin", "tandem-orchid-8"))!);

        var guarded = 0;
        for (var round = 0; round < 10; round++)
        {
            var responses = await Task.WhenAll(
                first.SendAsync(new Call("PATCH", $"/api/users/{twin}", """{"role":"user"}""")),
                second.SendAsync(new Call("PATCH", "/api/users/1", """{"role":"viewer"}""")));
            var statuses = responses.Select(r => r.StatusCode).ToList();

            // One wins. The other meets the guard (409), or, when it was authorized only after the winner had
            // demoted its caller, is refused as no longer an admin (403). Never both, never a 500.
            Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(1), $"round {round}: {string.Join(",", statuses)}");
            Assert.That(statuses.Count(s => s is HttpStatusCode.Conflict or HttpStatusCode.Forbidden), Is.EqualTo(1), $"round {round}: {string.Join(",", statuses)}");
            Assert.That(ActiveAdmins(app), Is.EqualTo(1), $"round {round}");
            guarded += statuses.Count(s => s == HttpStatusCode.Conflict);

            using var db = app.OpenDatabase();
            db.Execute("UPDATE users SET role = 'admin' WHERE id IN (1, @twin)", new { twin });
        }
        TestContext.Out.WriteLine($"{guarded} of 10 rounds were decided by the guard (the rest by authorization)");
    }

    [Test]
    public async Task ManyConcurrentRemovalsOfTwoAdminsLeaveOneActiveAdmin()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var twin = (await (await admin.PostAsJsonAsync("/api/users", new { username = "twin", email = "twin@example.com", role = "admin", password = "tandem-orchid-8" })).JsonAsync())
            .GetProperty("id").GetInt64();

        // The caller (admin 1) is also a target: whatever the interleaving, one admin stays and nothing fails.
        var calls = new[]
        {
            new Call("PATCH", $"/api/users/{twin}", """{"role":"user"}"""),
            new Call("DELETE", $"/api/users/{twin}"),
            new Call("PATCH", $"/api/users/{twin}", """{"status":"locked"}"""),
            new Call("PATCH", "/api/users/1", """{"role":"viewer"}"""),
            new Call("DELETE", "/api/users/1"),
        };
        var statuses = (await Task.WhenAll(calls.Select(c => admin.SendAsync(c)))).Select(r => (int)r.StatusCode).ToList();

        Assert.That(statuses, Has.All.AnyOf(200, 204, 401, 403, 409), string.Join(",", statuses));
        Assert.That(ActiveAdmins(app), Is.EqualTo(1), string.Join(",", statuses));
    }
}

/// <summary>The user list and its search give the right answers on a big table (their speed: bench/run.sh).</summary>
public class UsersListScaleTests
{
    [Test]
    public async Task ListingAndSearchingOneHundredThousandUsersCountsRight()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        using (var db = app.OpenDatabase())
        {
            using var tx = db.BeginTransaction();
            var number = TestEngine.IsPostgres ? "lpad(CAST(i AS TEXT), 6, '0')" : "printf('%06d', i)";
            db.Execute($"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                INSERT INTO users (username, email, password_hash, role, status)
                SELECT 'bulk' || {number}, 'bulk' || {number} || '@Scale.example', 'not-a-hash',
                       CASE i % 10 WHEN 0 THEN 'viewer' ELSE 'user' END, CASE i % 7 WHEN 0 THEN 'inactive' ELSE 'active' END
                FROM n
                """, transaction: tx);
            tx.Commit();
        }

        // Correctness at scale; the speed of these queries is measured by bench/run.sh, not asserted here.
        var expected = new Dictionary<string, long>
        {
            [""] = 100_001,
            ["?search=BULK09999"] = 10,
            ["?search=scale.example&role=viewer&status=active&limit=200&offset=5000"] = 10_000 - 1_428, // viewers, minus the inactive ones (multiples of 70)
            ["?offset=99000"] = 100_001,
            ["?search=nobody-matches"] = 0,
        };
        foreach (var (query, total) in expected)
        {
            var response = await admin.GetAsync("/api/users" + query);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), query);
            Assert.That((await response.JsonAsync()).GetProperty("total").GetInt64(), Is.EqualTo(total), query);
        }
        var found = await admin.GetFromJsonAsync<JsonElement>("/api/users?search=BULK09999");
        Assert.That(found.GetProperty("total").GetInt64(), Is.EqualTo(10)); // bulk099990..bulk099999
    }
}
