namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>Regression: bodies that are not UTF-8 were a 500 (found by the bad-input sweep); they are malformed JSON.</summary>
public class ChatBridgeBadBodyTests
{
    private static ByteArrayContent NotUtf8(string before, string after) =>
        new([.. System.Text.Encoding.UTF8.GetBytes(before), 0xC3, 0x28, 0xFF, .. System.Text.Encoding.UTF8.GetBytes(after)])
        {
            Headers = { ContentType = new("application/json") },
        };

    [Test]
    public async Task MessageWhoseTextIsNotUtf8IsInvalidJsonAndStoresNothing()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        var response = await app.CreateClient().PostAsync("/api/v1/messages", NotUtf8("{\"session_id\":\"session_abc\",\"message\":\"", "\"}"));
        await response.AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid JSON");
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT (SELECT COUNT(*) FROM web_chat_sessions) + (SELECT COUNT(*) FROM web_chat_messages)"), Is.Zero);
    }

    [Test]
    public async Task ConfigWhoseSettingNameIsNotUtf8IsInvalidJsonAndChangesNothing()
    {
        await using var app = new SanctumApplication().AllowAnonymousChat();
        using var db = app.OpenDatabase();
        var before = db.Query<string>("SELECT config_key || '=' || config_value FROM system_config ORDER BY config_key").ToList();
        var response = await app.CreateKeyClient(app.BridgeKey("chat_admin_key")).PostAsync("/api/v1/config", NotUtf8("{\"", "\":1}"));
        await response.AssertBridgeErrorAsync(HttpStatusCode.BadRequest, "Invalid JSON");
        Assert.That(db.Query<string>("SELECT config_key || '=' || config_value FROM system_config ORDER BY config_key").ToList(), Is.EqualTo(before));
    }
}
