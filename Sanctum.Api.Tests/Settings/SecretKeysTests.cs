using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Settings;
using Sanctum.Api.Tests.ChatBridge;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Settings;

/// <summary>
/// Security issue #10, items 3 and 5a: keys named like secrets are always encrypted and masked, the chat bridge checks
/// keys by their stored digest and refuses plain text, and a secret the key ring can no longer decrypt fails loud.
/// </summary>
public class SecretKeysTests
{
    [Test]
    public async Task AnAgentsRelayKeySetThroughAgentConfigIsEncryptedAndMaskedForViewers()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var viewer = await app.CreateClientForRoleAsync("viewer");
        const string key = "athena-relay-key-plain-by-default";

        // No is_encrypted: before, this stored the key in plain text and showed it to every viewer.
        var put = await admin.PutAsJsonAsync("/api/agents/athena/config/chat_api_key", new { value = key });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());
        using (var db = app.OpenDatabase())
        {
            var row = db.QuerySingle<(string Value, long Encrypted, string? Digest)>(
                "SELECT config_value, is_encrypted, value_digest FROM agent_configs WHERE agent_id = 'athena' AND config_key = 'chat_api_key'");
            Assert.That(row.Encrypted, Is.EqualTo(1));
            Assert.That(row.Value, Does.Not.Contain(key));
            Assert.That(row.Digest, Has.Length.EqualTo(64));
            // Issue 23 item 17: an HMAC under a key outside the database, not a plain SHA-256 a stolen copy could test guesses against.
            Assert.That(row.Digest, Is.Not.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))));
        }
        foreach (var url in new[] { "/api/agents/athena/config", "/api/agents/athena/config/chat_api_key", "/api/config/effective?agent=athena" })
            Assert.That(await viewer.GetStringAsync(url), Does.Not.Contain(key), url);
        Assert.That((await viewer.GetFromJsonAsync<JsonElement>("/api/agents/athena/config/chat_api_key")).GetProperty("value").GetString(), Is.EqualTo("********"));
    }

    [TestCase("/api/agents/athena/config/relay_token")]
    [TestCase("/api/config/smtp_password")]
    [TestCase("/api/config/env/WEBHOOK_SECRET")]
    [TestCase("/api/configurations/system/provider_api_key")]
    public async Task KeysNamedLikeSecretsAreAlwaysEncryptedInEveryStore(string url)
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        await app.AssertInvalidAsync(admin, new Call("PUT", url, """{"value":"plain","is_encrypted":false}"""), "is_encrypted");
        var put = await admin.PutAsJsonAsync(url, new { value = "secret-value-0042" });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());
        var shown = await put.JsonAsync();
        Assert.That(shown.GetProperty("value").GetString(), Is.EqualTo("********"));
        Assert.That(shown.GetProperty("is_encrypted").GetBoolean(), Is.True);
    }

    [Test]
    public async Task TheBridgeRefusesAKeyStoredInPlainText()
    {
        await using var app = new SanctumApplication();
        const string plain = "plain-text-relay-key-123456";
        using (var db = app.OpenDatabase())
            db.Execute("INSERT INTO agent_configs (agent_id, config_key, config_value, is_encrypted) VALUES ('athena', 'chat_api_key', @plain, FALSE)", new { plain });
        var response = await app.CreateKeyClient(plain).GetAsync("/api/v1/?action=inbox");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a key anyone with read access to the table could copy opens nothing");
    }

    [Test]
    public async Task TheBridgeChecksTheStoredDigestWithoutDecrypting()
    {
        await using var app = new SanctumApplication();
        var key = app.BridgeKey();
        // The ciphertext is gone (lost key ring, say); the digest still admits the relay.
        using (var db = app.OpenDatabase())
            db.Execute("UPDATE system_config SET config_value = 'not-a-ciphertext' WHERE config_key = 'chat_api_key'");
        var response = await app.CreateKeyClient(key).GetAsync("/api/v1/?action=inbox");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That((await app.CreateKeyClient(key + "x").GetAsync("/api/v1/?action=inbox")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    /// <summary>Ciphertext from another key ring: what this install holds after its keys/ folder was lost.</summary>
    private static string ForeignCiphertext(string plaintext) =>
        new EphemeralDataProtectionProvider().CreateProtector("Sanctum.Config.v1").Protect(plaintext);

    private static async Task<HttpClient> SignInAdminAsync(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        client.WithToken((await SanctumApplication.LoginAsync(client, "admin", "admin123"))!);
        var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = SanctumApplication.AdminPassword });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        return client;
    }

    [Test]
    public async Task ASecretWhoseKeyIsLostReadsUnreadableIsLoggedAndRefusesTheMask()
    {
        using var app = new SanctumApplication();
        var logs = new LogCapture();
        using var factory = logs.Attach(app);
        var admin = await SignInAdminAsync(factory);
        Assert.That(await (await factory.CreateClient().GetAsync("/readyz")).Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));

        var lost = ForeignCiphertext("sk-lost-forever");
        using (var db = app.OpenDatabase())
            db.Execute("UPDATE system_config SET config_value = @lost WHERE config_key = 'openai_api_key'", new { lost });

        var listed = (await admin.GetFromJsonAsync<JsonElement>("/api/config")).EnumerateArray().Single(e => e.GetProperty("key").GetString() == "openai_api_key");
        Assert.That(listed.GetProperty("value").GetString(), Is.EqualTo("unreadable"), "not the mask: the value is gone");
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/config/openai_api_key?reveal=true")).GetProperty("value").GetString(), Is.EqualTo("unreadable"));
        Assert.That(logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)), Has.Some.Contains("openai_api_key"));

        var mask = await admin.PutAsJsonAsync("/api/config/openai_api_key", new { value = "********" });
        await mask.AssertProblemAsync(HttpStatusCode.Conflict);
        using (var db = app.OpenDatabase())
            Assert.That(db.QuerySingle<string>("SELECT config_value FROM system_config WHERE config_key = 'openai_api_key'"), Is.EqualTo(lost),
                "the ciphertext is kept, not overwritten with the mask or \"\"");

        var ready = await factory.CreateClient().GetAsync("/readyz");
        Assert.That(await ready.Content.ReadAsStringAsync(), Is.EqualTo("Degraded"));
        Assert.That(logs.Text, Does.Contain("system_config/openai_api_key"), "readiness names the store and key");

        var replaced = await admin.PutAsJsonAsync("/api/config/openai_api_key", new { value = "sk-new-0001" });
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a new value replaces the unreadable one");
        Assert.That(await (await factory.CreateClient().GetAsync("/readyz")).Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }
}
