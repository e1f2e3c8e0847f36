namespace Sanctum.Api.Tests.Management;

/// <summary>/api/config: the system settings, typed, with secrets masked unless an admin reveals them.</summary>
public class ConfigApiTests : ManagementFixture
{
    private static string NewKey() => "c_" + Guid.NewGuid().ToString("N")[..10];

    private dynamic? Row(string key)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault("SELECT config_value, config_type, category, description, is_encrypted FROM system_config WHERE config_key = @key", new { key });
    }

    [Test]
    public async Task ReadersSeeTheSeededSettingsWithSecretsMasked()
    {
        var list = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config");
        var byKey = list.EnumerateArray().ToDictionary(e => e.GetProperty("key").GetString()!);

        Assert.That(byKey.Keys, Is.SupersetOf(new[] { "api_port", "smcp_port", "letta_server_port", "openai_api_key", "chat_api_key", "max_message_length" }));
        var port = byKey["api_port"];
        Assert.That(port.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { "key", "value", "type", "category", "description", "is_encrypted", "version", "updated_at" }));
        Assert.That(port.GetProperty("value").GetInt32(), Is.EqualTo(5000), "a number setting comes back as a JSON number");
        Assert.That(port.GetProperty("type").GetString(), Is.EqualTo("number"));
        Assert.That(port.GetProperty("category").GetString(), Is.EqualTo("network"));
        Assert.That(port.GetProperty("is_encrypted").GetBoolean(), Is.False);
        Assert.That(byKey["chat_api_key"].GetProperty("value").GetString(), Is.EqualTo("********"), "a set secret shows as the mask");
        Assert.That(byKey["chat_api_key"].GetProperty("is_encrypted").GetBoolean(), Is.True);
        Assert.That(byKey["openai_api_key"].GetProperty("value").GetString(), Is.EqualTo(""), "an empty secret shows as empty");
    }

    [Test]
    public async Task CategoryFiltersTheList()
    {
        var letta = await _clients.User.GetFromJsonAsync<JsonElement>("/api/config?category=letta");
        Assert.That(letta.EnumerateArray().Select(e => e.GetProperty("key").GetString()),
            Is.SupersetOf(new[] { "letta_server_address", "letta_server_port", "letta_server_token", "letta_connection_timeout" }));
        Assert.That(letta.EnumerateArray().Select(e => e.GetProperty("category").GetString()), Has.All.EqualTo("letta"));
        Assert.That((await _clients.User.GetFromJsonAsync<JsonElement>("/api/config?category=nothing-here")).GetArrayLength(), Is.EqualTo(0));
    }

    [Test]
    public async Task CategoriesAreCounted()
    {
        var categories = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/categories");
        var counts = categories.EnumerateArray().ToDictionary(c => c.GetProperty("category").GetString()!, c => c.GetProperty("count").GetInt64());
        Assert.That(counts["network"], Is.EqualTo(2));
        Assert.That(counts["letta"], Is.EqualTo(4));
        Assert.That(counts["paths"], Is.EqualTo(2));
    }

    [Test]
    public async Task ReadersGetOneSetting()
    {
        var entry = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/ollama_base_url");
        Assert.That(entry.GetProperty("value").GetString(), Is.EqualTo("http://localhost:11434"));
        await (await _clients.Viewer.GetAsync("/api/config/no_such_key")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ANumberSettingTakesANumber()
    {
        var response = await Admin.PutAsJsonAsync("/api/config/smcp_port", new { value = 9100 });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await response.JsonAsync()).GetProperty("value").GetInt32(), Is.EqualTo(9100));
        Assert.That((string)Row("smcp_port")!.config_value, Is.EqualTo("9100"));

        var asText = await Admin.PutAsJsonAsync("/api/config/smcp_port", new { value = "9200" });
        Assert.That(asText.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row("smcp_port")!.config_value, Is.EqualTo("9200"));
        Assert.That((string)Row("smcp_port")!.config_type, Is.EqualTo("number"));
    }

    [TestCase("\"abc\"")]
    [TestCase("\"\"")]
    [TestCase("null")]
    [TestCase("true")]
    [TestCase("\"Infinity\"")]
    public async Task ANumberSettingRefusesANonNumberAndKeepsItsValue(string value)
    {
        var body = await (await Admin.PutAsync("/api/config/letta_server_port", Support.JsonBody($$"""{"value":{{value}}}"""))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(body.GetProperty("errors").GetProperty("value")[0].GetString(), Does.Contain("number"));
        Assert.That((string)Row("letta_server_port")!.config_value, Is.EqualTo("443"));
    }

    [TestCase("boolean", "true", "\"maybe\"")]
    [TestCase("json", """{"a":[1,2]}""", "\"{broken\"")]
    public async Task TypedNewSettingsAreChecked(string type, string good, string bad)
    {
        var key = NewKey();
        var created = await Admin.PutAsync($"/api/config/{key}", Support.JsonBody($$"""{"value":{{good}},"type":"{{type}}"}"""));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        Assert.That((string)Row(key)!.config_value, Is.EqualTo(good));

        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{key}", $$"""{"value":{{bad}}}"""), "value");
        Assert.That((string)Row(key)!.config_value, Is.EqualTo(good));
    }

    [Test]
    public async Task PutCreatesANewSettingInGeneralUnlessSaid()
    {
        var key = NewKey();
        var response = await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "hello" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"/api/config/{key}"));
        var row = Row(key)!;
        Assert.That((string)row.category, Is.EqualTo("general"));
        Assert.That((string)row.config_type, Is.EqualTo("string"));

        var other = NewKey();
        await Admin.PutAsJsonAsync($"/api/config/{other}", new { value = "x", category = "custom", description = "A custom setting" });
        Assert.That((string)Row(other)!.category, Is.EqualTo("custom"));
        Assert.That((string)Row(other)!.description, Is.EqualTo("A custom setting"));
    }

    [Test]
    public async Task ReplacingKeepsCategoryAndDescriptionWhenAbsent()
    {
        var response = await Admin.PutAsJsonAsync("/api/config/letta_data_path", new { value = "/srv/letta" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var row = Row("letta_data_path")!;
        Assert.That((string)row.config_value, Is.EqualTo("/srv/letta"));
        Assert.That((string)row.category, Is.EqualTo("paths"));
        Assert.That((string)row.description, Is.EqualTo("Letta data directory"));
    }

    [Test]
    public async Task ChangingTheTypeChecksTheValueAgainstTheNewType()
    {
        var key = NewKey();
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "12", type = "number" });
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{key}", """{"value":"12","type":"boolean"}"""), "value");
        var ok = await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "twelve", type = "string" });
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row(key)!.config_type, Is.EqualTo("string"));
    }

    [TestCase("""{"value":"x","type":"integer"}""", "type")]
    [TestCase("""{"value":"x","category":"has space"}""", "category")]
    [TestCase("""{"value":"x","is_encrypted":1}""", "is_encrypted")]
    public Task PutRefusesInvalidFields(string json, string field) =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{NewKey()}", json), field);

    [Test]
    public Task PutRefusesAnOverlongDescription() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{NewKey()}", $$"""{"value":"x","description":"{{new string('d', 501)}}"}"""), "description");

    [Test]
    public Task PutRefusesAnOverlongValue() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{NewKey()}", $$"""{"value":"{{new string('v', 65_537)}}"}"""), "value");

    [TestCase("bad key")]
    [TestCase(".dot-first")]
    [TestCase("env")]
    [TestCase("categories")]
    [TestCase("effective")]
    [TestCase("schema")]
    public Task PutRefusesABadOrReservedKey(string key) =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{Uri.EscapeDataString(key)}", """{"value":"x"}"""), "key");

    [Test]
    public async Task AdminDeletesASetting()
    {
        var key = NewKey();
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "bye" });
        Assert.That((await Admin.DeleteAsync($"/api/config/{key}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row(key), Is.Null);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", $"/api/config/{key}"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AStoredSecretIsMaskedForEveryoneAndRevealedOnlyToAnAdmin()
    {
        const string plaintext = "sk-config-test-0123456789";
        var put = await Admin.PutAsJsonAsync("/api/config/anthropic_api_key", new { value = plaintext });
        var putText = await put.Content.ReadAsStringAsync();
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), putText);
        Assert.That(putText, Does.Not.Contain(plaintext));
        Assert.That(JsonDocument.Parse(putText).RootElement.GetProperty("value").GetString(), Is.EqualTo("********"));
        Assert.That((string)Row("anthropic_api_key")!.config_value, Does.Not.Contain(plaintext));

        foreach (var client in new[] { _clients.Viewer, _clients.User, Admin })
        {
            Assert.That(await client.GetStringAsync("/api/config"), Does.Not.Contain(plaintext));
            Assert.That(await client.GetStringAsync("/api/config/anthropic_api_key"), Does.Not.Contain(plaintext));
        }
        foreach (var client in new[] { _clients.Viewer, _clients.User })
        {
            var refused = await client.GetAsync("/api/config/anthropic_api_key?reveal=true");
            Assert.That(await refused.Content.ReadAsStringAsync(), Does.Not.Contain(plaintext));
            await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        }
        var revealed = await Admin.GetFromJsonAsync<JsonElement>("/api/config/anthropic_api_key?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo(plaintext));
        Assert.That(revealed.GetProperty("is_encrypted").GetBoolean(), Is.True);
    }

    [Test]
    public async Task RevealingAPlainSettingShowsItsValue()
    {
        var entry = await Admin.GetFromJsonAsync<JsonElement>("/api/config/api_port?reveal=true");
        Assert.That(entry.GetProperty("value").GetInt32(), Is.EqualTo(5000));
        await (await _clients.Viewer.GetAsync("/api/config/api_port?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task ANewSettingCanBeASecret()
    {
        var key = NewKey();
        var response = await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "new-secret-987", is_encrypted = true, category = "providers" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await response.JsonAsync()).GetProperty("value").GetString(), Is.EqualTo("********"));
        Assert.That(Convert.ToInt64(Row(key)!.is_encrypted), Is.EqualTo(1));
        Assert.That((string)Row(key)!.config_value, Does.Not.Contain("new-secret-987"));
    }

    [Test]
    public async Task SendingTheMaskBackKeepsTheSecret()
    {
        await Admin.PutAsJsonAsync("/api/config/letta_server_token", new { value = "letta-token-keep" });
        var again = await Admin.PutAsJsonAsync("/api/config/letta_server_token", new { value = "********", description = "Token for the Letta server (rotated)" });
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var revealed = await Admin.GetFromJsonAsync<JsonElement>("/api/config/letta_server_token?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo("letta-token-keep"));
        Assert.That(revealed.GetProperty("description").GetString(), Is.EqualTo("Token for the Letta server (rotated)"));
    }

    [Test]
    public Task ASecretCannotBeTurnedIntoPlainText() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/config/openai_api_key", """{"value":"sk-x","is_encrypted":false}"""), "is_encrypted");

    [Test]
    public async Task ConcurrentWritesToOneSettingNeverFail()
    {
        var key = NewKey();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => i % 3 == 0
            ? Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "not a number", type = "number" })
            : Admin.PutAsJsonAsync($"/api/config/{key}", new { value = i, type = "number" })));
        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        Assert.That(statuses, Has.All.AnyOf(200, 201, 400), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == 201), Is.EqualTo(1), string.Join(",", statuses));
        Assert.That(statuses.Count(s => s == 400), Is.EqualTo(4));
    }

    /// <summary>
    /// PUTs of one setting sent together are written together (Settings/SettingPutQueue.cs) and still each as if alone:
    /// its own version and ETag, a history entry that starts from the value the previous one left, and If-Match checked
    /// against that value (of 16 PUTs with the same ETag exactly one applies).
    /// </summary>
    [Test]
    public async Task ConcurrentPutsOfOneSettingAreEachWrittenAsIfAlone()
    {
        var key = NewKey();
        var created = await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "v0" });
        var etag = created.Headers.ETag!.Tag;

        var racing = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"/api/config/{key}") { Content = JsonContent.Create(new { value = $"if-{i}" }) };
            request.Headers.IfMatch.ParseAdd(etag);
            return Admin.SendAsync(request);
        }));
        Assert.That(racing.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(1), string.Join(",", racing.Select(r => (int)r.StatusCode)));
        Assert.That(racing.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed), Is.EqualTo(15));

        var writes = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Admin.PutAsJsonAsync($"/api/config/{key}", new { value = $"w-{i}" })));
        Assert.That(writes.Select(r => r.StatusCode), Has.All.EqualTo(HttpStatusCode.OK));
        var tags = writes.Select(r => r.Headers.ETag!.Tag).ToList();
        Assert.That(tags, Is.Unique);
        Assert.That(tags.Select(t => int.Parse(t.Trim('"'))).Order(), Is.EqualTo(Enumerable.Range(3, 24)), "versions 3 to 26, one each");

        var history = (await Admin.GetFromJsonAsync<JsonElement>($"/api/config/{key}/history")).EnumerateArray().OrderBy(c => c.GetProperty("version").GetInt32()).ToList();
        Assert.That(history.Select(c => c.GetProperty("version").GetInt32()), Is.EqualTo(Enumerable.Range(1, 26)));
        for (var v = 1; v < history.Count; v++)
            Assert.That(history[v].GetProperty("old_value").GetString(), Is.EqualTo(history[v - 1].GetProperty("new_value").GetString()), $"version {v + 1} starts from version {v}");
        var last = await Admin.GetFromJsonAsync<JsonElement>($"/api/config/{key}");
        Assert.That(last.GetProperty("value").GetString(), Is.EqualTo(history[^1].GetProperty("new_value").GetString()));
        Assert.That(last.GetProperty("version").GetInt32(), Is.EqualTo(26));
    }

    public static IEnumerable<string> Roles() => ["anonymous", "viewer", "user"];

    [TestCaseSource(nameof(Roles))]
    public async Task OnlyAdminsWriteSettings(string role)
    {
        var expected = role == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
        var client = _clients.For(role);
        await _app.AssertRefusedAsync(client, new Call("PUT", "/api/config/api_port", """{"value":"6000"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("PUT", "/api/config/brand_new_key", """{"value":"x"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("DELETE", "/api/config/api_port"), expected);
    }

    [Test]
    public async Task AnonymousCannotReadSettings()
    {
        foreach (var url in new[] { "/api/config", "/api/config/categories", "/api/config/api_port", "/api/config/api_port?reveal=true" })
            await (await _clients.Anonymous.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
