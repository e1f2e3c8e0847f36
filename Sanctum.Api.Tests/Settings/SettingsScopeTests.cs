using System.Globalization;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Settings;

/// <summary>One truth per scope: the effective view includes system and agent settings; owned rows go with their owner; tool config is checked.</summary>
public class SettingsScopeTests : ManagementFixture
{
    private static string NewKey() => "s_" + Guid.NewGuid().ToString("N")[..10];

    [Test]
    public async Task TheEffectiveViewIncludesTheAgentsOwnSettingsWithTheirSource()
    {
        var put = await Admin.PutAsJsonAsync("/api/agents/athena/config/primary_model", new { value = "letta-free" });
        Assert.That(put.StatusCode, Is.AnyOf(HttpStatusCode.OK, HttpStatusCode.Created), await put.Content.ReadAsStringAsync());

        var effective = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/effective?agent=athena");
        var model = effective.GetProperty("primary_model");
        Assert.That(model.GetProperty("value").GetString(), Is.EqualTo("letta-free"));
        Assert.That(model.GetProperty("scope").GetString(), Is.EqualTo("agent"));
        Assert.That(model.GetProperty("scope_id").GetString(), Is.EqualTo("athena"));
        Assert.That(model.GetProperty("source").GetString(), Is.EqualTo("agent_configs"));

        var port = effective.GetProperty("smcp_port");
        Assert.That(port.GetProperty("source").GetString(), Is.EqualTo("system_config"));
        Assert.That(port.GetProperty("value").ValueKind, Is.EqualTo(JsonValueKind.Number));

        var other = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/effective?agent=monday");
        Assert.That(other.TryGetProperty("primary_model", out _), Is.False, "another agent's settings stay out");
    }

    [Test]
    public async Task AnAgentConfigurationOverridesTheAgentsOwnSettingWhichOverridesTheSystem()
    {
        var key = NewKey();
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = "system" });
        await Admin.PutAsJsonAsync($"/api/agents/timbre/config/{key}", new { value = "agent-setting" });
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>("/api/config/effective?agent=timbre")).GetProperty(key).GetProperty("value").GetString(),
            Is.EqualTo("agent-setting"));
        await Admin.PutAsJsonAsync($"/api/configurations/agent/timbre/{key}", new { value = "agent-configuration" });
        var entry = (await Admin.GetFromJsonAsync<JsonElement>("/api/config/effective?agent=timbre")).GetProperty(key);
        Assert.That(entry.GetProperty("value").GetString(), Is.EqualTo("agent-configuration"));
        Assert.That(entry.GetProperty("source").GetString(), Is.EqualTo("configurations"));
    }

    [Test]
    public async Task ConfigurationsOfADeletedToolOrInstanceGoWithIt()
    {
        var tool = "t-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Temp", category = "master" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var instance = await (await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "one" })).JsonAsync();
        var instanceId = instance.GetProperty("id").GetInt64();
        await Admin.PutAsJsonAsync($"/api/configurations/tool/{tool}/colour", new { value = "blue" });
        await Admin.PutAsJsonAsync($"/api/configurations/instance/{instanceId}/colour", new { value = "red" });

        Assert.That((await Admin.DeleteAsync($"/api/tools/{tool}/instances/{instanceId}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await Admin.DeleteAsync($"/api/tools/{tool}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM configurations WHERE (scope = 'tool' AND scope_id = @tool) OR (scope = 'instance' AND scope_id = @id)",
            new { tool, id = instanceId.ToString(CultureInfo.InvariantCulture) }), Is.Zero);
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM setting_history WHERE store = 'configurations' AND action = 'delete' AND scope_id IN (@tool, @id)",
            new { tool, id = instanceId.ToString(CultureInfo.InvariantCulture) }), Is.EqualTo(2), "the removals are recorded");
    }

    [Test]
    public async Task ToolInstanceConfigIsCheckedAgainstTheToolsSchemaWithThePathOfEachError()
    {
        var tool = "t-" + Guid.NewGuid().ToString("N")[..8];
        var schema = JsonDocument.Parse("""
            {"type":"object","required":["port"],"properties":{"port":{"type":"integer","minimum":1,"maximum":65535},
             "mode":{"enum":["fast","safe"]}}}
            """).RootElement;
        var created = await Admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Schema", category = "master", config_schema = schema });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());

        var refused = await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "bad", config = new { port = 70000, mode = "wild" } });
        var problem = await refused.AssertProblemAsync(HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(fields, Does.Contain("config/port").And.Contain("config/mode"));
        using (var db = _app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = @tool", new { tool }), Is.Zero);

        var missing = await (await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "none", config = new { mode = "fast" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(missing.GetProperty("errors").TryGetProperty("config", out _), Is.True, "a missing required property is an error at the config's root");

        var ok = await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "good", config = new { port = 8080, mode = "safe" } });
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.Created), await ok.Content.ReadAsStringAsync());
        var id = (await ok.JsonAsync()).GetProperty("id").GetInt64();
        await _app.AssertInvalidAsync(Admin, new Call("PATCH", $"/api/tools/{tool}/instances/{id}", """{"config":{"port":"eighty"}}"""), "config/port");
    }

    [Test]
    public Task AToolSchemaThatIsNotAJsonSchemaIsRefused() =>
        _app.AssertInvalidAsync(Admin, new Call("POST", "/api/tools", """{"id":"bad-schema","name":"x","category":"master","config_schema":{"type":42}}"""), "config_schema");
}
