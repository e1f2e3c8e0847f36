using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Settings;

/// <summary>Declared constraints: the catalogue at /api/config/schema checks every typed store, and values come back typed.</summary>
public class SettingsCatalogueTests : ManagementFixture
{
    private string? Stored(string key)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault<string>("SELECT config_value FROM system_config WHERE config_key = @key", new { key });
    }

    [Test]
    public async Task TheSchemaListsEveryKnownSettingWithItsConstraintsAndReader()
    {
        var schema = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/schema");
        var byKey = schema.EnumerateArray().ToDictionary(s => s.GetProperty("key").GetString()!);

        var port = byKey["letta_server_port"];
        Assert.That(port.GetProperty("type").GetString(), Is.EqualTo("number"));
        Assert.That(port.GetProperty("format").GetString(), Is.EqualTo("port"));
        Assert.That(port.GetProperty("minimum").GetDouble(), Is.EqualTo(1));
        Assert.That(port.GetProperty("maximum").GetDouble(), Is.EqualTo(65535));
        Assert.That(byKey["letta_server_address"].GetProperty("format").GetString(), Is.EqualTo("url"));
        Assert.That(byKey["openai_api_key"].GetProperty("secret").GetBoolean(), Is.True);
        Assert.That(byKey["session_timeout"].GetProperty("read_by").EnumerateArray().Select(r => r.GetString()), Does.Contain("sanctum-api"));
        Assert.That(byKey["api_port"].GetProperty("read_by").EnumerateArray().Select(r => r.GetString()), Does.Not.Contain("sanctum-api"),
            "api_port is not read by this service and says so");
        var anonymous = byKey["chat_allow_anonymous"];
        Assert.That(anonymous.GetProperty("type").GetString(), Is.EqualTo("boolean"));
        Assert.That(anonymous.GetProperty("default").GetBoolean(), Is.False);
    }

    [TestCase("letta_server_port", "99999")]
    [TestCase("letta_server_port", "-5.5")]
    [TestCase("letta_server_port", "0")]
    [TestCase("smcp_port", "80.5")]
    [TestCase("letta_server_address", "\"not a url at all\"")]
    [TestCase("letta_server_address", "\"ftp://files.example\"")]
    [TestCase("ollama_base_url", "\"localhost:11434\"")]
    [TestCase("session_timeout", "0")]
    [TestCase("session_timeout", "-30")]
    [TestCase("letta_connection_timeout", "0")]
    [TestCase("max_message_length", "20000")]
    [TestCase("chat_allow_anonymous", "\"sometimes\"")]
    public async Task AValueOutsideItsDeclaredConstraintsIsRefusedAndNothingChanges(string key, string value)
    {
        var before = Stored(key);
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/{key}", $$"""{"value":{{value}}}"""), "value");
        Assert.That(Stored(key), Is.EqualTo(before));
    }

    [Test]
    public async Task AKnownKeyKeepsItsDeclaredTypeInEveryStore()
    {
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/config/letta_server_port", """{"value":"443","type":"string"}"""), "type");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/agents/athena/config/temperature", """{"value":3,"type":"number"}"""), "value");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/configurations/agent/athena/session_timeout", """{"value":5}"""), "value");
        var ok = await Admin.PutAsJsonAsync("/api/agents/athena/config/temperature", new { value = 0.4 });
        Assert.That(ok.StatusCode, Is.AnyOf(HttpStatusCode.OK, HttpStatusCode.Created), await ok.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AValidValueIsStoredAndComesBackInItsType()
    {
        var put = await Admin.PutAsJsonAsync("/api/config/letta_server_port", new { value = "8283" });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());
        var entry = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/letta_server_port");
        Assert.That(entry.GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.Number));
        Assert.That(entry.GetProperty("value").GetInt32(), Is.EqualTo(8283));

        var flag = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/chat_allow_anonymous");
        Assert.That(flag.GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.False), "a boolean comes back as false, not \"false\"");
    }

    [Test]
    public async Task UnknownKeysStayAllowedWithTheTypeTheWriterDeclares()
    {
        var key = "custom_" + Guid.NewGuid().ToString("N")[..8];
        var put = await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = 99999, type = "number" });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());
        Assert.That((await put.JsonAsync()).GetProperty("value").GetInt32(), Is.EqualTo(99999));
    }

    [Test]
    public async Task OneKeyRuleAndOneDescriptionLimitForEveryStore()
    {
        var longText = new string('d', 501);
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/configurations/system/.dot-first", """{"value":"x"}"""), "key");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/configurations/system/-dash-first", """{"value":"x"}"""), "key");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/configurations/system/fine_key", $$"""{"value":"x","description":"{{longText}}"}"""), "description");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/config/env/FINE_NAME", $$"""{"value":"x","description":"{{longText}}"}"""), "description");
        await _app.AssertInvalidAsync(Admin, new Call("PUT", "/api/config/fine_key", $$"""{"value":"x","description":"{{longText}}"}"""), "description");
    }
}
