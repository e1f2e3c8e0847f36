using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Sanctum.Api.Tests.Management;

/// <summary>
/// Values marked encrypted (system settings, agent settings, environment variables) never appear in plain text in
/// the database files (sanctum.db, -wal, -shm; on PostgreSQL every row of every table), the key ring, the logs, or any
/// response but an admin's reveal.
/// </summary>
public class SecretsAtRestTests
{
    private static async Task<HttpClient> SignInAdminAsync(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        var token = await SanctumApplication.LoginAsync(client, "admin", "admin123");
        client.WithToken(token!);
        var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = SanctumApplication.AdminPassword });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        return client;
    }

    private static async Task<HttpClient> SignInViewerAsync(SanctumApplication app, WebApplicationFactory<Program> factory)
    {
        // Not through app.OpenDatabase(): the parent host (a second application) would start.
        using (var db = app.OpenDatabaseWithoutStarting())
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES ('peeker', 'peeker@example.com', @hash, 'viewer')",
                new { hash = BCrypt.Net.BCrypt.HashPassword("peeker-password", 4) });
        var client = factory.CreateClient();
        return client.WithToken((await SanctumApplication.LoginAsync(client, "peeker", "peeker-password"))!);
    }

    /// <summary>Every file under the data directory whose bytes contain <paramref name="plaintext"/> (as UTF-8 or UTF-16).</summary>
    private static List<string> FilesContaining(string directory, string plaintext)
    {
        var needles = new[] { Encoding.UTF8.GetBytes(plaintext), Encoding.Unicode.GetBytes(plaintext) };
        var found = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            // A -wal the log store folded back and removed between listing and reading holds nothing any more.
            catch (FileNotFoundException) { continue; }
            if (needles.Any(n => bytes.AsSpan().IndexOf(n) >= 0)) found.Add(Path.GetFileName(path));
        }
        return found;
    }

    [Test]
    public async Task SecretsNeverReachTheDatabaseFilesTheLogsOrUnrevealedResponses()
    {
        using var app = new SanctumApplication();
        var logs = new LogCapture();
        var factory = logs.Attach(app);
        var admin = await SignInAdminAsync(factory);
        var viewer = await SignInViewerAsync(app, factory);

        var openai = "sk-openai-" + Guid.NewGuid().ToString("N");
        var custom = "custom-secret-" + Guid.NewGuid().ToString("N");
        var agentKey = "agent-secret-" + Guid.NewGuid().ToString("N");
        var envValue = "env-secret-" + Guid.NewGuid().ToString("N");
        var replaced = "replaced-secret-" + Guid.NewGuid().ToString("N");
        var refused = "refused-secret-" + Guid.NewGuid().ToString("N");
        var all = new[] { openai, custom, agentKey, envValue, replaced, refused };

        var responses = new List<string>();
        async Task<HttpResponseMessage> Keep(Task<HttpResponseMessage> call)
        {
            var response = await call;
            responses.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response;
        }

        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/openai_api_key", new { value = openai }))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/custom_token", new { value = replaced, is_encrypted = true }))).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/custom_token", new { value = custom }))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/agents/athena/config/api_key", new { value = agentKey, is_encrypted = true }))).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/env/SERVICE_TOKEN", new { value = envValue, is_encrypted = true }))).StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/numeric_secret", new { value = refused, type = "number", is_encrypted = true }))).StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        // A plain value, to prove the byte search below finds what is really there.
        var plainMarker = "plain-marker-" + Guid.NewGuid().ToString("N");
        Assert.That((await Keep(admin.PutAsJsonAsync("/api/config/plain_marker", new { value = plainMarker }))).StatusCode, Is.EqualTo(HttpStatusCode.Created));

        foreach (var client in new[] { admin, viewer })
        {
            foreach (var url in new[] { "/api/config", "/api/config/openai_api_key", "/api/config/custom_token", "/api/config/env", "/api/config/env/SERVICE_TOKEN", "/api/agents/athena/config", "/api/agents/athena/config/api_key" })
                Assert.That((await Keep(client.GetAsync(url))).StatusCode, Is.EqualTo(HttpStatusCode.OK), url);
            foreach (var url in new[] { "/api/config/openai_api_key?reveal=true", "/api/config/env/SERVICE_TOKEN?reveal=true", "/api/agents/athena/config/api_key?reveal=true" })
                if (client == viewer) Assert.That((await Keep(client.GetAsync(url))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), url);
        }

        // The only way out: an admin's reveal.
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/config/openai_api_key?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(openai));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/config/custom_token?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(custom));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/agents/athena/config/api_key?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(agentKey));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/config/env/SERVICE_TOKEN?reveal=true")).GetProperty("value").GetString(), Is.EqualTo(envValue));

        var responseText = string.Join("\n", responses);
        Assert.That(responseText, Does.Contain("********"));
        foreach (var secret in all)
            Assert.That(responseText, Does.Not.Contain(secret), "an unrevealed response holds a secret");

        if (TestEngine.IsPostgres)
            foreach (var secret in all)
                Assert.That(FilesContaining(app.DataDirectory, secret), Is.Empty, $"plaintext {secret} found in the data directory");
        else AssertNotInTheSqliteFiles(app, all, plainMarker);
        using (var db = app.OpenDatabaseWithoutStarting())
        {
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM system_config WHERE config_key = 'numeric_secret'"), Is.EqualTo(0), "the refused write wrote nothing");
            var rows = string.Join("\n", Evidence.DatabaseDigest.Dump(db).Values.SelectMany(table => table));
            Assert.That(rows, Does.Contain(plainMarker), "the search must find a plain value");
            foreach (var secret in all)
                Assert.That(rows, Does.Not.Contain(secret), $"plaintext {secret} found in the database");
        }

        var logText = logs.Text;
        Assert.That(logText, Does.Contain("/api/config/openai_api_key"), "the capture sees the requests (so it would see a leak)");
        foreach (var secret in all)
            Assert.That(logText, Does.Not.Contain(secret), "a log line holds a secret");
    }

    /// <summary>SQLite's files byte by byte, before and after a checkpoint: free pages and the log keep what a row no longer shows.</summary>
    private static void AssertNotInTheSqliteFiles(SanctumApplication app, string[] all, string plainMarker)
    {
        Assert.That(File.Exists(app.DatabasePath + "-wal"), Is.True, "the writes sit in the write-ahead log");
        Assert.That(FilesContaining(app.DataDirectory, plainMarker), Is.Not.Empty, "the search must find a plain value");
        foreach (var secret in all)
            Assert.That(FilesContaining(app.DataDirectory, secret), Is.Empty, $"plaintext {secret} found in the data directory");
        using (var db = app.OpenDatabaseWithoutStarting())
            db.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        foreach (var secret in all)
            Assert.That(FilesContaining(app.DataDirectory, secret), Is.Empty, $"plaintext {secret} found after a checkpoint");
        Assert.That(FilesContaining(app.DataDirectory, plainMarker), Does.Contain("sanctum.db"), "after the checkpoint the plain value is in the main file");
    }

    [Test]
    public async Task SecretsSurviveARestartBecauseTheKeysAreKeptWithTheData()
    {
        using var first = new SanctumApplication();
        var admin = await first.CreateAdminClientAsync();
        await admin.PutAsJsonAsync("/api/config/openai_api_key", new { value = "sk-survives-restart" });
        // SQLite: the key ring is a folder of the data directory; PostgreSQL: a table of the database (encrypted).
        if (TestEngine.IsPostgres)
            using (var db = first.OpenDatabase())
                Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM data_protection_keys"), Is.GreaterThan(0));
        else
            Assert.That(Directory.EnumerateFiles(Path.Combine(first.DataDirectory, "keys"), "key-*.xml"), Is.Not.Empty);

        using var second = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:DataDirectory"] = first.DataDirectory });
        var again = await second.CreateAdminClientAsync();
        var revealed = await again.GetFromJsonAsync<JsonElement>("/api/config/openai_api_key?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo("sk-survives-restart"));
    }
}
