namespace Sanctum.Api.Tests.Management;

/// <summary>/api/agents/{id}/config: typed values, secrets encrypted at rest and masked.</summary>
public class AgentConfigApiTests : ManagementFixture
{
    private static string NewKey() => "k_" + Guid.NewGuid().ToString("N")[..10];

    private dynamic? Row(string agent, string key)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault("SELECT config_value, config_type, is_encrypted FROM agent_configs WHERE agent_id = @agent AND config_key = @key", new { agent, key });
    }

    private async Task PutAsync(string agent, string key, string json, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await Admin.PutAsync($"/api/agents/{agent}/config/{key}", Support.JsonBody(json));
        Assert.That(response.StatusCode, Is.EqualTo(expected), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task PutCreatesThenReplacesASetting()
    {
        var key = NewKey();
        var created = await Admin.PutAsJsonAsync($"/api/agents/athena/config/{key}", new { value = "gpt-4o" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"/api/agents/athena/config/{key}"));
        var body = await created.JsonAsync();
        Assert.That(body.GetProperty("agent_id").GetString(), Is.EqualTo("athena"));
        Assert.That(body.GetProperty("key").GetString(), Is.EqualTo(key));
        Assert.That(body.GetProperty("value").GetString(), Is.EqualTo("gpt-4o"));
        Assert.That(body.GetProperty("type").GetString(), Is.EqualTo("string"));
        Assert.That(body.GetProperty("is_encrypted").GetBoolean(), Is.False);

        var replaced = await Admin.PutAsJsonAsync($"/api/agents/athena/config/{key}", new { value = "claude" });
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row("athena", key)!.config_value, Is.EqualTo("claude"));
    }

    [Test]
    public async Task TypedValuesAreStoredAsText()
    {
        var temperature = NewKey();
        var tools = NewKey();
        var stream = NewKey();
        await PutAsync("monday", temperature, """{"value":0.7,"type":"number"}""");
        await PutAsync("monday", tools, """{"value":{"search":true},"type":"json"}""");
        await PutAsync("monday", stream, """{"value":true,"type":"boolean"}""");

        Assert.That((string)Row("monday", temperature)!.config_value, Is.EqualTo("0.7"));
        Assert.That((string)Row("monday", temperature)!.config_type, Is.EqualTo("number"));
        Assert.That((string)Row("monday", tools)!.config_value, Is.EqualTo("""{"search":true}"""));
        Assert.That((string)Row("monday", stream)!.config_value, Is.EqualTo("true"));

        var list = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/agents/monday/config");
        var entry = list.EnumerateArray().Single(e => e.GetProperty("key").GetString() == temperature);
        Assert.That(entry.GetProperty("value").GetDouble(), Is.EqualTo(0.7), "a number comes back as a JSON number");
        Assert.That(entry.GetProperty("type").GetString(), Is.EqualTo("number"));
        var flags = list.EnumerateArray().Single(e => e.GetProperty("key").GetString() == tools).GetProperty("value");
        Assert.That(flags.GetProperty("search").GetBoolean(), Is.True, "json comes back as JSON");
        Assert.That(list.EnumerateArray().Single(e => e.GetProperty("key").GetString() == stream).GetProperty("value").GetBoolean(), Is.True);
    }

    [TestCase("number", "\"abc\"")]
    [TestCase("number", "\"NaN\"")]
    [TestCase("boolean", "\"yes\"")]
    [TestCase("json", "\"{not json\"")]
    public async Task AValueThatDoesNotParseAsItsTypeIsRefusedAndTheOldOneStays(string type, string bad)
    {
        var key = NewKey();
        var good = type switch { "number" => "42", "boolean" => "false", _ => "[1]" };
        await PutAsync("timbre", key, $$"""{"value":"{{good.Replace("\"", "\\\"")}}","type":"{{type}}"}""");

        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/agents/timbre/config/{key}", $$"""{"value":{{bad}}}"""), "value");
        Assert.That((string)Row("timbre", key)!.config_value, Is.EqualTo(good));
        Assert.That((string)Row("timbre", key)!.config_type, Is.EqualTo(type), "the type is kept when absent");
    }

    [TestCase("""{"value":"x","type":"float"}""", "type")]
    [TestCase("""{"value":"x","is_encrypted":"yes"}""", "is_encrypted")]
    public Task PutRefusesInvalidFields(string json, string field) =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/agents/athena/config/{NewKey()}", json), field);

    [TestCase("has space")]
    [TestCase("-starts-with-dash")]
    [TestCase("k%0A")]
    public Task PutRefusesABadKey(string key) =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/agents/athena/config/{key}", """{"value":"x"}"""), "key");

    [Test]
    public Task PutRefusesAnOverlongKey() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/agents/athena/config/{new string('k', 101)}", """{"value":"x"}"""), "key");

    [Test]
    public async Task EncryptedValuesAreMaskedAndOnlyAnAdminRevealsThem()
    {
        var key = NewKey();
        const string plaintext = "agent-secret-value-31337";
        var put = await Admin.PutAsJsonAsync($"/api/agents/athena/config/{key}", new { value = plaintext, is_encrypted = true });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await put.JsonAsync()).GetProperty("value").GetString(), Is.EqualTo("********"));

        var stored = (string)Row("athena", key)!.config_value;
        Assert.That(stored, Is.Not.EqualTo(plaintext).And.Not.Contain(plaintext));
        Assert.That(Convert.ToInt64(Row("athena", key)!.is_encrypted), Is.EqualTo(1));

        foreach (var client in new[] { _clients.Viewer, _clients.User, Admin })
        {
            var list = await client.GetStringAsync("/api/agents/athena/config");
            Assert.That(list, Does.Not.Contain(plaintext));
            Assert.That((await client.GetFromJsonAsync<JsonElement>($"/api/agents/athena/config/{key}")).GetProperty("value").GetString(), Is.EqualTo("********"));
        }
        await (await _clients.Viewer.GetAsync($"/api/agents/athena/config/{key}?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await _clients.User.GetAsync($"/api/agents/athena/config/{key}?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var revealed = await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/athena/config/{key}?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo(plaintext));
    }

    [Test]
    public async Task AnEmptySecretShowsAsEmpty()
    {
        var key = NewKey();
        await PutAsync("athena", key, """{"value":"","is_encrypted":true}""");
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/athena/config/{key}")).GetProperty("value").GetString(), Is.EqualTo(""));
    }

    [Test]
    public async Task SendingTheMaskBackKeepsTheSecret()
    {
        var key = NewKey();
        await PutAsync("athena", key, """{"value":"keep-me-secret","is_encrypted":true}""");
        await PutAsync("athena", key, """{"value":"********"}""", HttpStatusCode.OK);
        var revealed = await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/athena/config/{key}?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo("keep-me-secret"));
    }

    [Test]
    public async Task ASecretCannotBeTurnedBackIntoPlainText()
    {
        var key = NewKey();
        await PutAsync("athena", key, """{"value":"stay-secret","is_encrypted":true}""");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/agents/athena/config/{key}", """{"value":"x","is_encrypted":false}"""), "is_encrypted");
        await PutAsync("athena", key, """{"value":"new-secret"}""", HttpStatusCode.OK);
        Assert.That(Convert.ToInt64(Row("athena", key)!.is_encrypted), Is.EqualTo(1), "absent is_encrypted keeps the secret encrypted");
    }

    [Test]
    public async Task AMissingAgentIs404()
    {
        await (await Admin.GetAsync("/api/agents/no-such-agent/config")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("PUT", "/api/agents/no-such-agent/config/model", """{"value":"x"}"""), HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/agents/no-such-agent/config/model"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AMissingKeyIs404()
    {
        await (await Admin.GetAsync("/api/agents/athena/config/no_such_key")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/agents/athena/config/no_such_key"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnAgentHiddenFromTheCallerHidesItsConfiguration()
    {
        var agent = "cfg-" + Guid.NewGuid().ToString("N")[..8];
        await Admin.PostAsJsonAsync("/api/agents", new { id = agent, name = "Hidden", visible_to_roles = new[] { "admin" } });
        await PutAsync(agent, "model", """{"value":"x"}""");
        await (await _clients.Viewer.GetAsync($"/api/agents/{agent}/config")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _clients.Viewer.GetAsync($"/api/agents/{agent}/config/model")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>($"/api/agents/{agent}/config")).GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task AdminDeletesASetting()
    {
        var key = NewKey();
        await PutAsync("athena", key, """{"value":"x"}""");
        Assert.That((await Admin.DeleteAsync($"/api/agents/athena/config/{key}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row("athena", key), Is.Null);
    }

    [Test]
    public async Task ConcurrentPutsOfOneNewKeyNeverFail()
    {
        var key = NewKey();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Admin.PutAsJsonAsync($"/api/agents/athena/config/{key}", new { value = i, type = "number" })));
        var statuses = responses.Select(r => r.StatusCode).ToList();
        Assert.That(statuses.Count(s => s == HttpStatusCode.Created), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(9), string.Join(",", statuses));
    }

    public static IEnumerable<string> Roles() => ["anonymous", "viewer", "user"];

    [TestCaseSource(nameof(Roles))]
    public async Task OnlyAdminsWriteAgentConfiguration(string role)
    {
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO agent_configs (agent_id, config_key, config_value) VALUES ('monday', 'matrix_key', 'v') ON CONFLICT DO NOTHING");
        var expected = role == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
        await _app.AssertRefusedAsync(_clients.For(role), new Call("PUT", "/api/agents/monday/config/matrix_key", """{"value":"changed"}"""), expected);
        await _app.AssertRefusedAsync(_clients.For(role), new Call("PUT", "/api/agents/monday/config/matrix_new", """{"value":"new"}"""), expected);
        await _app.AssertRefusedAsync(_clients.For(role), new Call("DELETE", "/api/agents/monday/config/matrix_key"), expected);
    }

    [Test]
    public async Task AnonymousCannotReadAgentConfiguration()
    {
        await (await _clients.Anonymous.GetAsync("/api/agents/athena/config")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await _clients.Anonymous.GetAsync("/api/agents/athena/config/model")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
