using System.Globalization;
using System.Net.Http.Headers;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Settings;

/// <summary>Every change of any setting is recorded, can be rolled back, and a stale write (If-Match) changes nothing.</summary>
public class SettingsHistoryTests : ManagementFixture
{
    private static string NewKey() => "h_" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, object? body, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null) request.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(ifMatch));
        return await client.SendAsync(request);
    }

    public static IEnumerable<string> Stores() =>
        ["/api/config/{0}", "/api/config/env/{0}", "/api/agents/monday/config/{0}", "/api/configurations/system/{0}", "/api/configurations/tool/broca/{0}"];

    [TestCaseSource(nameof(Stores))]
    public async Task AStaleIfMatchGets412AndChangesNothingInEveryStore(string pattern)
    {
        var url = string.Format(CultureInfo.InvariantCulture, pattern, NewKey().ToUpperInvariant());
        Assert.That((await Admin.PutAsJsonAsync(url, new { value = "first" })).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var read = await Admin.GetAsync(url);
        var etag = read.Headers.ETag?.Tag;
        Assert.That(etag, Is.Not.Null, "a read returns an ETag");

        // Another admin saves in between.
        var other = await SendAsync(Admin, HttpMethod.Put, url, new { value = "theirs" }, etag);
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK), await other.Content.ReadAsStringAsync());
        Assert.That(other.Headers.ETag?.Tag, Is.Not.EqualTo(etag));

        var stale = await SendAsync(Admin, HttpMethod.Put, url, new { value = "mine" }, etag);
        var problem = await stale.AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("changed"));
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>(url)).GetProperty("value").GetString(), Is.EqualTo("theirs"));
        await (await SendAsync(Admin, HttpMethod.Delete, url, null, etag)).AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        Assert.That((await SendAsync(Admin, HttpMethod.Put, url, new { value = "without a precondition" }, null)).StatusCode, Is.EqualTo(HttpStatusCode.OK),
            "without If-Match writes work as before");
    }

    [Test]
    public async Task HistoryRecordsWhoWhenAndTheOldAndNewValues()
    {
        var key = NewKey();
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = 1, type = "number" });
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = 2 });
        await Admin.DeleteAsync($"/api/config/{key}");

        var history = await Admin.GetFromJsonAsync<JsonElement>($"/api/config/{key}/history");
        var changes = history.EnumerateArray().ToList();
        Assert.That(changes.Select(c => c.GetProperty("version").GetInt64()), Is.EqualTo(new long[] { 3, 2, 1 }), "newest first");
        Assert.That(changes.Select(c => c.GetProperty("action").GetString()), Is.EqualTo(new[] { "delete", "set", "set" }));
        Assert.That(changes[1].GetProperty("old_value").GetInt32(), Is.EqualTo(1));
        Assert.That(changes[1].GetProperty("new_value").GetInt32(), Is.EqualTo(2));
        Assert.That(changes[2].GetProperty("old_value").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(changes.Select(c => c.GetProperty("changed_by").GetString()), Has.All.EqualTo("admin"));
        Assert.That(changes[0].GetProperty("changed_at").GetString(), Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"));
    }

    [Test]
    public async Task RollbackRestoresARecordedValueAsANewVersion()
    {
        var url = $"/api/agents/timbre/config/{NewKey()}";
        await Admin.PutAsJsonAsync(url, new { value = "alpha" });
        await Admin.PutAsJsonAsync(url, new { value = "beta" });

        var rolled = await Admin.PostAsJsonAsync($"{url}/rollback", new { version = 1 });
        Assert.That(rolled.StatusCode, Is.EqualTo(HttpStatusCode.OK), await rolled.Content.ReadAsStringAsync());
        Assert.That((await rolled.JsonAsync()).GetProperty("version").GetInt64(), Is.EqualTo(3));
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>(url)).GetProperty("value").GetString(), Is.EqualTo("alpha"));
        var last = (await Admin.GetFromJsonAsync<JsonElement>($"{url}/history"))[0];
        Assert.That(last.GetProperty("action").GetString(), Is.EqualTo("rollback"));
        Assert.That(last.GetProperty("new_value").GetString(), Is.EqualTo("alpha"));

        await _app.AssertInvalidAsync(Admin, new Call("POST", $"{url}/rollback", "{}"), "version");
        await _app.AssertRefusedAsync(Admin, new Call("POST", $"{url}/rollback", """{"version":99}"""), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ASecretIsRolledBackWithoutEverShowingItsValues()
    {
        const string first = "letta-token-first-0001", second = "letta-token-second-0002";
        var key = "h_token_" + Guid.NewGuid().ToString("N")[..6] + "_token";
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = first });
        await Admin.PutAsJsonAsync($"/api/config/{key}", new { value = second });

        var historyText = await Admin.GetStringAsync($"/api/config/{key}/history");
        Assert.That(historyText, Does.Not.Contain(first).And.Not.Contain(second));
        var changes = JsonDocument.Parse(historyText).RootElement;
        Assert.That(changes[0].GetProperty("new_value").GetString(), Is.EqualTo("changed"));
        Assert.That(changes[0].GetProperty("is_encrypted").GetBoolean(), Is.True);
        using (var db = _app.OpenDatabase())
            Assert.That(db.Query<string>("SELECT coalesce(old_value, '') || new_value FROM setting_history WHERE key = @key", new { key }),
                Has.None.Contains(first).And.None.Contains(second), "the history keeps ciphertext only");

        var rolled = await Admin.PostAsJsonAsync($"/api/config/{key}/rollback", new { version = 1 });
        Assert.That(await rolled.Content.ReadAsStringAsync(), Does.Not.Contain(first));
        Assert.That(rolled.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>($"/api/config/{key}?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(first));
    }

    [Test]
    public async Task RollingBackToADeletionIsRefused()
    {
        var key = NewKey();
        await Admin.PutAsJsonAsync($"/api/configurations/system/{key}", new { value = "x" });
        await Admin.DeleteAsync($"/api/configurations/system/{key}");
        await _app.AssertInvalidAsync(Admin, new Call("POST", $"/api/configurations/system/{key}/rollback", """{"version":2}"""), "version");
        var restored = await Admin.PostAsJsonAsync($"/api/configurations/system/{key}/rollback", new { version = 1 });
        Assert.That(restored.StatusCode, Is.EqualTo(HttpStatusCode.OK), "rolling back a deleted setting to a value recreates it");
    }

    [Test]
    public async Task VersionZeroRestoresTheSeededValueBeforeTheFirstChange()
    {
        using (var db = _app.OpenDatabase()) db.Execute("DELETE FROM setting_history WHERE key = 'letta_server_port'");
        var seeded = (await Admin.GetFromJsonAsync<JsonElement>("/api/config/letta_server_port")).GetProperty("value").GetRawText();
        Assert.That((await Admin.PutAsJsonAsync("/api/config/letta_server_port", new { value = 8283 })).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var rolled = await Admin.PostAsJsonAsync("/api/config/letta_server_port/rollback", new { version = 0 });
        Assert.That(rolled.StatusCode, Is.EqualTo(HttpStatusCode.OK), await rolled.Content.ReadAsStringAsync());
        Assert.That((await rolled.JsonAsync()).GetProperty("value").GetRawText(), Is.EqualTo(seeded));
        var last = (await Admin.GetFromJsonAsync<JsonElement>("/api/config/letta_server_port/history"))[0];
        Assert.That((last.GetProperty("action").GetString(), last.GetProperty("old_value").GetInt32(), last.GetProperty("new_value").GetRawText()),
            Is.EqualTo(("rollback", 8283, seeded)));
        await _app.AssertInvalidAsync(Admin, new Call("POST", "/api/config/letta_server_port/rollback", """{"version":-1}"""), "version");
    }

    [Test]
    public async Task VersionZeroOfASettingThatDidNotExistRemovesIt()
    {
        var url = $"/api/configurations/tool/broca/{NewKey()}";
        await Admin.PutAsJsonAsync(url, new { value = "x" });
        await Admin.PutAsJsonAsync(url, new { value = "y" });
        var rolled = await Admin.PostAsJsonAsync($"{url}/rollback", new { version = 0 });
        Assert.That(rolled.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await rolled.Content.ReadAsStringAsync());
        Assert.That((await Admin.GetAsync(url)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var last = (await Admin.GetFromJsonAsync<JsonElement>($"{url}/history"))[0];
        Assert.That((last.GetProperty("version").GetInt64(), last.GetProperty("action").GetString(), last.GetProperty("new_value").ValueKind),
            Is.EqualTo((3L, "rollback", JsonValueKind.Null)));
        await _app.AssertRefusedAsync(Admin, new Call("POST", $"/api/configurations/tool/broca/{NewKey()}/rollback", """{"version":0}"""), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task TheBridgeAndTheServiceRecordTheirOwnChanges()
    {
        var history = await Admin.GetFromJsonAsync<JsonElement>("/api/config/chat_api_key/history");
        Assert.That(history.EnumerateArray().Last().GetProperty("changed_by").GetString(), Is.EqualTo("system"), "the first-start key is recorded");
    }

    [TestCase("viewer")]
    [TestCase("user")]
    public async Task OnlyAdminsReadHistoryAndRollBack(string role)
    {
        await _app.AssertRefusedAsync(_clients.For(role), new Call("GET", "/api/config/api_port/history"), HttpStatusCode.Forbidden);
        await _app.AssertRefusedAsync(_clients.For(role), new Call("POST", "/api/config/api_port/rollback", """{"version":1}"""), HttpStatusCode.Forbidden);
    }
}
