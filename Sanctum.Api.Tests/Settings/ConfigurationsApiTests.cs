namespace Sanctum.Api.Tests.Settings;

public class ConfigurationsApiTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication();
        _admin = await _app.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    private static string NewKey() => $"key_{Guid.NewGuid():N}"[..20];

    private (string Value, string Type, long Encrypted)? Row(string scope, string? scopeId, string key)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault<(string, string, long)?>(
            "SELECT value, type, CAST(is_encrypted AS INTEGER) FROM configurations WHERE scope = @scope AND scope_id IS NOT DISTINCT FROM @scopeId AND key = @key", new { scope, scopeId, key });
    }

    private async Task PutAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await _admin.PutAsJsonAsync(path, body);
        Assert.That(response.StatusCode, Is.EqualTo(expected), await response.Content.ReadAsStringAsync());
    }

    private long NewInstance(string tool, string? agent)
    {
        using var db = _app.OpenDatabase();
        return db.ExecuteScalar<long>("INSERT INTO tool_instances (tool_id, agent_id, name) VALUES (@tool, @agent, 'test') RETURNING id", new { tool, agent });
    }

    [Test]
    public async Task AdminCreatesThenReplacesASystemConfiguration()
    {
        var key = NewKey();
        var created = await _admin.PutAsJsonAsync($"/api/configurations/system/{key}", new { value = "30", type = "number", description = "seconds" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"/api/configurations/system/{key}"));
        var body = await created.JsonAsync();
        Assert.That(body.GetProperty("value").GetInt32(), Is.EqualTo(30), "a number comes back as a JSON number");
        Assert.That(body.GetProperty("type").GetString(), Is.EqualTo("number"));
        Assert.That(body.GetProperty("scope").GetString(), Is.EqualTo("system"));
        Assert.That(body.GetProperty("scope_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(body.GetProperty("description").GetString(), Is.EqualTo("seconds"));

        var replaced = await _admin.PutAsJsonAsync($"/api/configurations/system/{key}", new { value = 45 });
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var after = await replaced.JsonAsync();
        Assert.That(after.GetProperty("value").GetInt32(), Is.EqualTo(45));
        Assert.That(after.GetProperty("description").GetString(), Is.EqualTo("seconds"), "absent fields keep their values");
        Assert.That(Row("system", null, key), Is.EqualTo(("45", "number", 0L)));

        var read = await _admin.GetFromJsonAsync<JsonElement>($"/api/configurations/system/{key}");
        Assert.That(read.GetProperty("value").GetInt32(), Is.EqualTo(45));
    }

    [TestCase("number", "\"abc\"")]
    [TestCase("boolean", "\"yes\"")]
    [TestCase("json", "\"{not json\"")]
    [TestCase("colour", "\"red\"")]
    public async Task AValueThatDoesNotParseAsItsTypeIs400AndNothingIsWritten(string type, string value)
    {
        var key = NewKey();
        var response = await _admin.PutAsync($"/api/configurations/system/{key}", Support.JsonBody($$"""{"value":{{value}},"type":"{{type}}"}"""));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(Row("system", null, key), Is.Null);
    }

    [Test]
    public async Task AMissingValueIs400()
    {
        var key = NewKey();
        var problem = await (await _admin.PutAsync($"/api/configurations/system/{key}", Support.JsonBody("""{"type":"string"}""")))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty("value", out _), Is.True);
        Assert.That(Row("system", null, key), Is.Null);
    }

    [TestCase("5", "number", "5")]
    [TestCase("true", "boolean", "true")]
    [TestCase("""{"a":[1,2]}""", "json", """{"a":[1,2]}""")]
    [TestCase("\"text\"", "string", "text")]
    public async Task WithoutATypeTheTypeFollowsTheJsonValue(string value, string type, string stored)
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", JsonDocument.Parse($$"""{"value":{{value}}}""").RootElement);
        Assert.That(Row("system", null, key), Is.EqualTo((stored, type, 0L)));
    }

    [Test]
    public async Task EncryptedValuesAreStoredEncryptedMaskedAndRevealedOnlyToAnAdmin()
    {
        var key = NewKey();
        var response = await _admin.PutAsJsonAsync($"/api/configurations/tool/broca/{key}", new { value = "s3cret-token", is_encrypted = true });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await response.JsonAsync()).GetProperty("value").GetString(), Is.EqualTo("********"));

        var stored = Row("tool", "broca", key)!.Value;
        Assert.That(stored.Encrypted, Is.EqualTo(1));
        Assert.That(stored.Value, Does.Not.Contain("s3cret"));
        if (!TestEngine.IsPostgres) Assert.That(File.ReadAllBytes(_app.DatabasePath).AsSpan().IndexOf("s3cret-token"u8), Is.EqualTo(-1));

        var list = await _admin.GetFromJsonAsync<JsonElement>("/api/configurations?scope=tool&scope_id=broca");
        Assert.That(list.EnumerateArray().Single(c => c.GetProperty("key").GetString() == key).GetProperty("value").GetString(), Is.EqualTo("********"));
        var revealed = await _admin.GetFromJsonAsync<JsonElement>($"/api/configurations/tool/broca/{key}?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo("s3cret-token"));

        var user = await _app.CreateClientForRoleAsync("user");
        Assert.That((await user.GetFromJsonAsync<JsonElement>($"/api/configurations/tool/broca/{key}")).GetProperty("value").GetString(), Is.EqualTo("********"));
        await (await user.GetAsync($"/api/configurations/tool/broca/{key}?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await user.GetAsync("/api/configurations?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task ScopedConfigurationsNeedAnExistingOwner()
    {
        var key = NewKey();
        await (await _admin.PutAsJsonAsync($"/api/configurations/agent/nobody/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PutAsJsonAsync($"/api/configurations/tool/no-tool/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PutAsJsonAsync($"/api/configurations/instance/999999/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PutAsJsonAsync($"/api/configurations/user/999999/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        var notANumber = await (await _admin.PutAsJsonAsync($"/api/configurations/instance/abc/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(notANumber.GetProperty("errors").TryGetProperty("scope_id", out _), Is.True);
        var badScope = await (await _admin.PutAsJsonAsync($"/api/configurations/galaxy/x/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(badScope.GetProperty("errors").TryGetProperty("scope", out _), Is.True);
        await (await _admin.PutAsJsonAsync($"/api/configurations/system/x/{key}", new { value = "x" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await _admin.PutAsJsonAsync("/api/configurations/system/bad key!", new { value = "x" })).AssertProblemAsync(HttpStatusCode.BadRequest);

        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM configurations WHERE key = @key", new { key }), Is.Zero);

        var instance = NewInstance("broca", "athena");
        await PutAsync($"/api/configurations/instance/{instance}/{key}", new { value = "i" });
        await PutAsync($"/api/configurations/user/1/{key}", new { value = "u" });
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "a" });
        Assert.That(Row("instance", instance.ToString(), key)?.Value, Is.EqualTo("i"));
        Assert.That(Row("user", "1", key)?.Value, Is.EqualTo("u"));
        Assert.That(Row("agent", "athena", key)?.Value, Is.EqualTo("a"));
    }

    [Test]
    public async Task ReadersListAndFilterButOnlyAdminsWrite()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", new { value = "s" });
        await PutAsync($"/api/configurations/agent/monday/{key}", new { value = "m" });
        var viewer = await _app.CreateClientForRoleAsync("viewer");

        var all = await viewer.GetFromJsonAsync<JsonElement>("/api/configurations");
        Assert.That(all.EnumerateArray().Count(c => c.GetProperty("key").GetString() == key), Is.EqualTo(2));
        var monday = await viewer.GetFromJsonAsync<JsonElement>("/api/configurations?scope=agent&scope_id=monday");
        Assert.That(monday.EnumerateArray().All(c => c.GetProperty("scope_id").GetString() == "monday"), Is.True);
        Assert.That(monday.EnumerateArray().Any(c => c.GetProperty("key").GetString() == key), Is.True);
        await (await viewer.GetAsync("/api/configurations?scope=galaxy")).AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.That((await viewer.PutAsJsonAsync($"/api/configurations/system/{key}", new { value = "v" })).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That((await viewer.DeleteAsync($"/api/configurations/agent/monday/{key}")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(Row("system", null, key)?.Value, Is.EqualTo("s"));
        Assert.That(Row("agent", "monday", key)?.Value, Is.EqualTo("m"));
    }

    [Test]
    public async Task DeleteRemovesTheConfigurationOnce()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", new { value = "s" });
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "a" });

        Assert.That((await _admin.DeleteAsync($"/api/configurations/agent/athena/{key}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row("agent", "athena", key), Is.Null);
        Assert.That(Row("system", null, key)?.Value, Is.EqualTo("s"), "only the addressed scope is removed");
        await (await _admin.DeleteAsync($"/api/configurations/agent/athena/{key}")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.That((await _admin.DeleteAsync($"/api/configurations/system/{key}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row("system", null, key), Is.Null);
    }

    // ---- GET /api/config/effective: one test per level of the hierarchy ----

    private async Task<JsonElement> EffectiveAsync(string query, HttpClient? client = null)
    {
        var response = await (client ?? _admin).GetAsync($"/api/config/effective?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static void AssertEntry(JsonElement effective, string key, string value, string scope, string? scopeId)
    {
        var entry = effective.GetProperty(key);
        // Numbers come back as JSON numbers: compare their JSON text.
        Assert.That(entry.GetProperty("value").ToString(), Is.EqualTo(value));
        Assert.That(entry.GetProperty("scope").GetString(), Is.EqualTo(scope));
        Assert.That(entry.GetProperty("scope_id").ValueKind == JsonValueKind.Null ? null : entry.GetProperty("scope_id").GetString(), Is.EqualTo(scopeId));
    }

    [Test]
    public async Task EffectiveConfigurationWithOnlyASystemValueReportsTheSystemValue()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", new { value = 10 });
        await PutAsync($"/api/configurations/agent/monday/{key}", new { value = 99 });

        var effective = await EffectiveAsync("agent=athena&tool=broca", await _app.CreateClientForRoleAsync("viewer"));
        AssertEntry(effective, key, "10", "system", null);
        Assert.That(effective.GetProperty(key).GetProperty("type").GetString(), Is.EqualTo("number"));
        AssertEntry(await EffectiveAsync(""), key, "10", "system", null);
    }

    [Test]
    public async Task EffectiveConfigurationPrefersTheAgentsValueOverTheSystems()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", new { value = "system" });
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "athena" });

        AssertEntry(await EffectiveAsync("agent=athena"), key, "athena", "agent", "athena");
        AssertEntry(await EffectiveAsync("agent=monday"), key, "system", "system", null);
    }

    [Test]
    public async Task EffectiveConfigurationPrefersTheToolsValueOverTheAgents()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/system/{key}", new { value = "system" });
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "athena" });
        await PutAsync($"/api/configurations/tool/broca/{key}", new { value = "broca" });

        AssertEntry(await EffectiveAsync("agent=athena&tool=broca"), key, "broca", "tool", "broca");
        AssertEntry(await EffectiveAsync("agent=athena&tool=chat-settings"), key, "athena", "agent", "athena");
    }

    [Test]
    public async Task EffectiveConfigurationPrefersTheInstancesValueOverTheTools()
    {
        var key = NewKey();
        var instance = NewInstance("broca", "athena");
        await PutAsync($"/api/configurations/system/{key}", new { value = "system" });
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "athena" });
        await PutAsync($"/api/configurations/tool/broca/{key}", new { value = "broca" });
        await PutAsync($"/api/configurations/instance/{instance}/{key}", new { value = "instance" });

        AssertEntry(await EffectiveAsync($"agent=athena&tool=broca&instance={instance}"), key, "instance", "instance", instance.ToString());
        // The instance implies its tool and agent.
        AssertEntry(await EffectiveAsync($"instance={instance}"), key, "instance", "instance", instance.ToString());
        AssertEntry(await EffectiveAsync("agent=athena&tool=broca"), key, "broca", "tool", "broca");
    }

    [Test]
    public async Task EffectiveConfigurationMasksSecretsAndMergesKeysFromEveryLevel()
    {
        var secret = NewKey();
        var plain = NewKey();
        await PutAsync($"/api/configurations/system/{plain}", new { value = "from-system" });
        await PutAsync($"/api/configurations/tool/broca/{secret}", new { value = "hidden", is_encrypted = true });

        var effective = await EffectiveAsync("agent=athena&tool=broca");
        AssertEntry(effective, secret, "********", "tool", "broca");
        AssertEntry(effective, plain, "from-system", "system", null);
    }

    [Test]
    public async Task EffectiveConfigurationRefusesUnknownOrInconsistentTargets()
    {
        await (await _admin.GetAsync("/api/config/effective?agent=nobody")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.GetAsync("/api/config/effective?tool=no-tool")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.GetAsync("/api/config/effective?instance=999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.GetAsync("/api/config/effective?instance=abc")).AssertProblemAsync(HttpStatusCode.BadRequest);
        var instance = NewInstance("broca", "athena");
        var problem = await (await _admin.GetAsync($"/api/config/effective?instance={instance}&tool=chat-settings")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty("tool", out _), Is.True);
        Assert.That((await _app.CreateClient().GetAsync("/api/config/effective")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task SendingTheMaskBackKeepsASecretAndASecretCannotBecomePlainText()
    {
        var key = NewKey();
        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "keep-me-secret", is_encrypted = true });
        var stored = Row("agent", "athena", key)!.Value.Value;

        await PutAsync($"/api/configurations/agent/athena/{key}", new { value = "********" }, HttpStatusCode.OK);
        var unmark = await _admin.PutAsJsonAsync($"/api/configurations/agent/athena/{key}", new { value = "plain-now", is_encrypted = false });

        var problem = await unmark.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty("is_encrypted", out _), Is.True);
        var row = Row("agent", "athena", key)!.Value;
        Assert.That(row.Encrypted, Is.EqualTo(1));
        Assert.That(row.Value, Does.Not.Contain("keep-me-secret").And.Not.EqualTo("********"));
        var revealed = await _admin.GetFromJsonAsync<JsonElement>($"/api/configurations/agent/athena/{key}?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo("keep-me-secret"));
        Assert.That(stored, Is.Not.Empty);
    }
}
