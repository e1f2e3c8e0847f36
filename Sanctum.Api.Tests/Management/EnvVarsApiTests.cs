namespace Sanctum.Api.Tests.Management;

/// <summary>/api/config/env: environment variables with valid names, secret ones masked.</summary>
public class EnvVarsApiTests : ManagementFixture
{
    private static string NewName() => "VAR_" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();

    private dynamic? Row(string name)
    {
        using var db = _app.OpenDatabase();
        return db.QuerySingleOrDefault("SELECT var_value, is_encrypted, description FROM env_vars WHERE var_name = @name", new { name });
    }

    [Test]
    public async Task AdminCreatesListsReplacesAndDeletesAVariable()
    {
        var name = NewName();
        var created = await Admin.PutAsJsonAsync($"/api/config/env/{name}", new { value = "/opt/sanctum", description = "Install root" });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"/api/config/env/{name}"));
        var body = await created.JsonAsync();
        Assert.That(body.GetProperty("name").GetString(), Is.EqualTo(name));
        Assert.That(body.GetProperty("value").GetString(), Is.EqualTo("/opt/sanctum"));
        Assert.That((string)Row(name)!.var_value, Is.EqualTo("/opt/sanctum"));

        var list = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/config/env");
        var entry = list.EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);
        Assert.That(entry.GetProperty("description").GetString(), Is.EqualTo("Install root"));
        Assert.That((await _clients.User.GetFromJsonAsync<JsonElement>($"/api/config/env/{name}")).GetProperty("value").GetString(), Is.EqualTo("/opt/sanctum"));

        var replaced = await Admin.PutAsJsonAsync($"/api/config/env/{name}", new { value = 8080 });
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((string)Row(name)!.var_value, Is.EqualTo("8080"));
        Assert.That((string)Row(name)!.description, Is.EqualTo("Install root"), "an absent description stays");

        Assert.That((await Admin.DeleteAsync($"/api/config/env/{name}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(Row(name), Is.Null);
    }

    [TestCase("_LEADING_UNDERSCORE")]
    [TestCase("lower_case_1")]
    [TestCase("X")]
    public async Task ValidNamesAreAccepted(string name)
    {
        var response = await Admin.PutAsJsonAsync($"/api/config/env/{name}", new { value = "v" });
        Assert.That((int)response.StatusCode, Is.AnyOf(200, 201));
        Assert.That(Row(name), Is.Not.Null);
    }

    [TestCase("1STARTS_WITH_DIGIT")]
    [TestCase("HAS-DASH")]
    [TestCase("HAS SPACE")]
    [TestCase("DOT.TED")]
    [TestCase("ÜMLAUT")]
    [TestCase("TRAILING_NEWLINE\n")]
    public Task InvalidNamesAreRefused(string name) =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/env/{Uri.EscapeDataString(name)}", """{"value":"v"}"""), "name");

    [Test]
    public Task AnOverlongNameIsRefused() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/env/{new string('A', 129)}", """{"value":"v"}"""), "name");

    [Test]
    public Task AnOverlongDescriptionIsRefused() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/env/{NewName()}", $$"""{"value":"v","description":"{{new string('d', 501)}}"}"""), "description");

    [Test]
    public Task AWrongTypedFlagIsRefused() =>
        _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/env/{NewName()}", """{"value":"v","is_encrypted":"true"}"""), "is_encrypted");

    [Test]
    public async Task AMissingVariableIs404()
    {
        await (await Admin.GetAsync("/api/config/env/NO_SUCH_VAR")).AssertProblemAsync(HttpStatusCode.NotFound);
        await _app.AssertRefusedAsync(Admin, new Call("DELETE", "/api/config/env/NO_SUCH_VAR"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ASecretVariableIsMaskedAndRevealedOnlyToAnAdmin()
    {
        var name = NewName();
        const string plaintext = "env-secret-value-4242";
        var put = await Admin.PutAsJsonAsync($"/api/config/env/{name}", new { value = plaintext, is_encrypted = true });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(await put.Content.ReadAsStringAsync(), Does.Not.Contain(plaintext));
        Assert.That((string)Row(name)!.var_value, Does.Not.Contain(plaintext));
        Assert.That(Convert.ToInt64(Row(name)!.is_encrypted), Is.EqualTo(1));

        Assert.That(await _clients.Viewer.GetStringAsync("/api/config/env"), Does.Not.Contain(plaintext).And.Contain("********"));
        await (await _clients.Viewer.GetAsync($"/api/config/env/{name}?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await _clients.User.GetAsync($"/api/config/env/{name}?reveal=true")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var revealed = await Admin.GetFromJsonAsync<JsonElement>($"/api/config/env/{name}?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo(plaintext));

        await Admin.PutAsJsonAsync($"/api/config/env/{name}", new { value = "********", description = "kept secret" });
        Assert.That((await Admin.GetFromJsonAsync<JsonElement>($"/api/config/env/{name}?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(plaintext));
        await _app.AssertInvalidAsync(Admin, new Call("PUT", $"/api/config/env/{name}", """{"value":"x","is_encrypted":false}"""), "is_encrypted");
    }

    public static IEnumerable<string> Roles() => ["anonymous", "viewer", "user"];

    [TestCaseSource(nameof(Roles))]
    public async Task OnlyAdminsWriteVariables(string role)
    {
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO env_vars (var_name, var_value) VALUES ('MATRIX_VAR', 'v') ON CONFLICT DO NOTHING");
        var expected = role == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
        var client = _clients.For(role);
        await _app.AssertRefusedAsync(client, new Call("PUT", "/api/config/env/MATRIX_VAR", """{"value":"changed"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("PUT", "/api/config/env/MATRIX_NEW", """{"value":"new"}"""), expected);
        await _app.AssertRefusedAsync(client, new Call("DELETE", "/api/config/env/MATRIX_VAR"), expected);
    }

    [Test]
    public async Task AnonymousCannotReadVariables()
    {
        await (await _clients.Anonymous.GetAsync("/api/config/env")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await _clients.Anonymous.GetAsync("/api/config/env/PATH")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
