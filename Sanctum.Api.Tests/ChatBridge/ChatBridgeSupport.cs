using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>Helpers for the chat bridge tests: its keys, its envelope, and rows arranged in its tables.</summary>
public static class ChatBridgeSupport
{
    public static readonly Regex WholeSecondUtc = new(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\z");

    /// <summary>A bridge key's plaintext, read from system_config and decrypted with the app's own keys.</summary>
    public static string BridgeKey(this SanctumApplication app, string name = "chat_api_key")
    {
        using var db = app.OpenDatabase();
        var stored = db.QuerySingle<string>("SELECT config_value FROM system_config WHERE config_key = @name", new { name });
        return app.Services.GetRequiredService<Secrets>().Unprotect(stored)!;
    }

    public static string Protect(this SanctumApplication app, string plaintext) => app.Services.GetRequiredService<Secrets>().Protect(plaintext)!;

    public static HttpClient CreateKeyClient(this SanctumApplication app, string key)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Asserts the success envelope (200, JSON, success/message/timestamp) and returns its data.</summary>
    public static async Task<JsonElement> BridgeDataAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), text);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.That(body.GetProperty("success").GetBoolean(), Is.True, text);
        Assert.That(body.GetProperty("message").GetString(), Is.EqualTo("Success"));
        Assert.That(body.GetProperty("timestamp").GetString(), Does.Match(WholeSecondUtc));
        return body.GetProperty("data");
    }

    /// <summary>Asserts the error envelope (never problem+json) with <paramref name="status"/> and the exact <paramref name="error"/>.</summary>
    public static async Task<JsonElement> AssertBridgeErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), text);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.That(body.GetProperty("success").GetBoolean(), Is.False, text);
        Assert.That(body.GetProperty("error").GetString(), Is.EqualTo(error), text);
        Assert.That(body.GetProperty("timestamp").GetString(), Does.Match(WholeSecondUtc));
        Assert.That(body.TryGetProperty("data", out _), Is.False);
        return body;
    }

    public static Task<HttpResponseMessage> PostMessageAsync(this HttpClient client, object body, string path = "/api/v1/?action=messages") =>
        client.PostAsJsonAsync(path, body);

    /// <summary>Adds a session and its messages straight to the database (for inbox tests that need many or dated rows).</summary>
    public static List<long> ArrangeMessages(this SanctumApplication app, string sessionId, int count, string? agentId = null, string? timestamp = null)
    {
        using var db = app.OpenDatabase();
        db.Execute("INSERT INTO web_chat_sessions (id, uid, agent_id) VALUES (@sessionId, @uid, @agentId) ON CONFLICT DO NOTHING",
            new { sessionId, uid = Guid.NewGuid().ToString("N")[..16], agentId });
        return Enumerable.Range(0, count).Select(i => db.ExecuteScalar<long>("""
            INSERT INTO web_chat_messages (session_id, message, timestamp, agent_id)
            VALUES (@sessionId, @message, COALESCE(@timestamp, @now), @agentId)
            RETURNING id
            """, new { sessionId, message = $"message {i}", timestamp, agentId, now = Sanctum.Api.Data.Timestamp.From(DateTimeOffset.UtcNow) })).ToList();
    }

    public static string DeliveryState(this SanctumApplication app, long messageId)
    {
        using var db = app.OpenDatabase();
        return db.QuerySingle<string>("SELECT delivery_state FROM web_chat_messages WHERE id = @messageId", new { messageId });
    }

    public static long Count(this SanctumApplication app, string sql, object? args = null)
    {
        using var db = app.OpenDatabase();
        return db.ExecuteScalar<long>(sql, args);
    }

    /// <summary>Turns on anonymous web chat (the chat_allow_anonymous system setting, off by default) and returns the app.</summary>
    public static SanctumApplication AllowAnonymousChat(this SanctumApplication app, bool allow = true)
    {
        using var db = app.OpenDatabase();
        db.Execute("""
            INSERT INTO system_config (config_key, config_value, config_type, category) VALUES ('chat_allow_anonymous', @value, 'boolean', 'chat')
            ON CONFLICT (config_key) DO UPDATE SET config_value = excluded.config_value
            """, new { value = allow ? "true" : "false" });
        return app;
    }
}
