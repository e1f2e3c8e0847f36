using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The public side of the bridge, used by the chat page and public web chats: post a message, read the responses.
/// No key is needed; a signed-in caller (session cookie or bearer session token) is recorded on the session and
/// its messages, and only that user may use the session afterwards.
/// </summary>
public sealed class ChatMessages(
    SqliteConnection db, TimeProvider clock, BridgeRateLimits limits, IAuthorizationService authorization, IOptions<SanctumOptions> options)
{
    public const int MaxResponsesPerRead = 500;

    public async Task<IResult> Messages(HttpContext http)
    {
        // Checked in the protocol's order: method (routing), rate limit, body, fields, session id, message. The limit
        // is counted per session id and client address, so the session id is picked out of the body first.
        var body = await BridgeInput.ReadBodyAsync(http.Request, options.Value.MaxRequestBodyBytes);
        var rawSession = body.TryGet("session_id", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.String ? s.GetString() : null;
        if (limits.Acquire("messages", BridgeInput.RateKey(rawSession, http)) is { } wait) return BridgeResults.RateLimited(http, wait);
        if (body.TooLarge) return BridgeResults.Error(StatusCodes.Status413PayloadTooLarge, "Request too large");
        if (body.Malformed) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid JSON");
        if (!body.TryGet("session_id", out var sessionValue) || !body.TryGet("message", out var messageValue))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing required fields");
        if (BridgeInput.SessionId(sessionValue) is not { } sessionId) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session ID");
        if (BridgeInput.Message(messageValue, BridgeSettings.MaxMessageLength(db)) is not { } message)
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid message");

        long? userId = null;
        if (http.User.Identity?.IsAuthenticated == true)
        {
            // Viewers, and users who must still change their password, may not chat (the Member policy).
            if (!(await authorization.AuthorizeAsync(http.User, Policies.Member)).Succeeded)
                return BridgeResults.Error(StatusCodes.Status403Forbidden, "This account may not chat");
            userId = http.User.UserId();
        }
        string? agentId = null;
        if (body.TryGet("agent_id", out var agentValue) && agentValue.ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            agentId = agentValue.ValueKind == System.Text.Json.JsonValueKind.String ? agentValue.GetString() : null;
            if (agentId is null || !MayChatWith(agentId, http.User)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid agent");
        }

        var now = Timestamp.Now(clock);
        db.Open();
        using var tx = db.BeginTransaction();
        var session = db.QuerySingleOrDefault<SessionOwner>(
            "SELECT uid, user_id, agent_id FROM web_chat_sessions WHERE id = @sessionId", new { sessionId }, tx);
        var isNew = session is null;
        if (session is not null)
        {
            if (session.UserId != userId) return BridgeResults.Error(StatusCodes.Status403Forbidden, "Session belongs to another user");
            if (agentId is not null && session.AgentId is not null && session.AgentId != agentId)
                return BridgeResults.Error(StatusCodes.Status400BadRequest, "Session is bound to another agent");
            db.Execute("""
                UPDATE web_chat_sessions SET last_active = @now, is_active = 1, agent_id = COALESCE(agent_id, @agentId)
                WHERE id = @sessionId
                """, new { sessionId, now, agentId }, tx);
        }
        else
        {
            session = new SessionOwner { Uid = NewUid(), UserId = userId, AgentId = agentId };
            db.Execute("""
                INSERT INTO web_chat_sessions (id, uid, user_id, agent_id, ip_address, user_agent, created_at, last_active, is_active)
                VALUES (@sessionId, @uid, @userId, @agentId, @ip, @userAgent, @now, @now, 1)
                """,
                new
                {
                    sessionId, uid = session.Uid, userId, agentId, ip = AuthSetup.ClientAddress(http),
                    userAgent = AuthSetup.ClientUserAgent(http), now,
                }, tx);
        }
        var messageId = db.ExecuteScalar<long>("""
            INSERT INTO web_chat_messages (session_id, message, timestamp, processed, user_id)
            VALUES (@sessionId, @message, @now, 0, @userId)
            RETURNING id
            """, new { sessionId, message, now, userId }, tx);
        tx.Commit();
        return BridgeResults.Ok(new MessageReceipt(messageId, sessionId, now, session.Uid, isNew));
    }

    public IResult Responses(HttpContext http, string? sessionIdText, string? sinceText, string? afterIdText)
    {
        if (limits.Acquire("responses", BridgeInput.RateKey(sessionIdText, http)) is { } wait) return BridgeResults.RateLimited(http, wait);
        if (string.IsNullOrWhiteSpace(sessionIdText)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing session_id parameter");
        if (BridgeInput.SessionId(sessionIdText) is not { } sessionId) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session ID");
        if (!BridgeInput.TrySince(sinceText, out var since)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid since parameter");
        long? afterId = null;
        if (!string.IsNullOrEmpty(afterIdText))
        {
            if (!long.TryParse(afterIdText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid after_id parameter");
            afterId = parsed;
        }

        var owner = db.QuerySingleOrDefault<SessionOwner>("SELECT uid, user_id, agent_id FROM web_chat_sessions WHERE id = @sessionId", new { sessionId });
        if (owner?.UserId is { } ownerId && (http.User.Identity?.IsAuthenticated != true || http.User.UserId() != ownerId))
            return BridgeResults.Error(StatusCodes.Status403Forbidden, "Session belongs to another user");

        // An unknown session simply has no responses: a GET never creates one.
        var responses = db.Query<ChatResponse>("""
            SELECT id, response, timestamp, message_id FROM web_chat_responses
            WHERE session_id = @sessionId AND (@since IS NULL OR timestamp >= @since) AND (@afterId IS NULL OR id > @afterId)
            ORDER BY id
            LIMIT @max
            """, new { sessionId, since, afterId, max = MaxResponsesPerRead }).ToList();
        return BridgeResults.Ok(new ResponsesData(sessionId, responses));
    }

    private bool MayChatWith(string agentId, ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated == true)
        {
            return db.ExecuteScalar<bool>($"SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id AND is_active = 1 AND {AgentVisibility.Where})",
                AgentVisibility.Parameters(user, agentId));
        }
        // Anonymous web chat may reach only agents visible to everyone.
        return db.ExecuteScalar<bool>("""
            SELECT EXISTS (SELECT 1 FROM agents WHERE id = @agentId AND is_active = 1 AND visible_to_users IS NULL AND visible_to_roles IS NULL)
            """, new { agentId });
    }

    /// <summary>16 random lowercase hex characters: the session's stable user identity for Broca.</summary>
    private static string NewUid() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private sealed record SessionOwner
    {
        public required string Uid { get; init; }
        public long? UserId { get; init; }
        public string? AgentId { get; init; }
    }
}
