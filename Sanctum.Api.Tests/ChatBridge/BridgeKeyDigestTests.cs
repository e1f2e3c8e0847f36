using System.Security.Cryptography;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>
/// Issue 23 item 17: the bridge kept an unsalted SHA-256 of each key, so a copy of the database could test guesses of
/// a hand-chosen key offline. The digest is an HMAC under a key kept outside the database (RecordKeys).
/// </summary>
public class BridgeKeyDigestTests
{
    private static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    [Test]
    public async Task TheStoredDigestIsNotTheKeysSha256AndADigestWrittenBeforeIsRenewedAtStart()
    {
        var directory = SanctumApplication.NewDataDirectory();
        string key;
        await using (var first = new SanctumApplication(dataDirectory: directory))
        {
            key = first.BridgeKey();
            using var db = first.OpenDatabase();
            var digest = db.QuerySingle<string>("SELECT value_digest FROM system_config WHERE config_key = 'chat_api_key'");
            Assert.That(digest, Has.Length.EqualTo(64));
            Assert.That(digest, Is.Not.EqualTo(Sha256(key)));
            await (await first.CreateKeyClient(key).GetAsync("/api/v1/inbox")).BridgeDataAsync();
            // As an older build wrote it.
            db.Execute("UPDATE system_config SET value_digest = @digest WHERE config_key = 'chat_api_key'", new { digest = Sha256(key) });
            Assert.That((await first.CreateKeyClient(key).GetAsync("/api/v1/inbox")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized),
                "a plain SHA-256 opens nothing");
        }
        await using var second = new SanctumApplication(dataDirectory: directory);
        await (await second.CreateKeyClient(key).GetAsync("/api/v1/inbox")).BridgeDataAsync();
        using (var db = second.OpenDatabase())
            Assert.That(db.QuerySingle<string>("SELECT value_digest FROM system_config WHERE config_key = 'chat_api_key'"), Is.Not.EqualTo(Sha256(key)));
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
