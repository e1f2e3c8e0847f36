using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;

using Sanctum.Api.Telemetry;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The public side of the bridge, used by the chat page and public web chats: post a message, read the responses.
/// No key is needed; a signed-in caller (session cookie or bearer session token) is recorded on the session and
/// its messages, and only that user may use the session afterwards.
/// </summary>
public sealed class ChatMessages(
    DbConnection db, TimeProvider clock, BridgeRateLimits limits, IAuthorizationService authorization,
    SanctumMetrics metrics)
{
    public const int MaxResponsesPerRead = 500;

    public const string SessionOwnerSql = "SELECT uid, user_id, agent_id FROM web_chat_sessions WHERE id = @sessionId";

    /// <summary>A session that gets its agent late hands its messages without one to that agent's relay.</summary>
    public const string AdoptAgentSql = "UPDATE web_chat_messages SET agent_id = @agentId WHERE session_id = @sessionId AND agent_id IS NULL";

    public async Task<IResult> Messages(HttpContext http)
    {
        // Checked in the protocol's order: method (routing), rate limit, role, body, fields, session id, message. The limit
        // is counted per signed-in user, or per client address (and in total) for anonymous chat, which is off unless
        // the chat_allow_anonymous setting is true; session ids, which the client chooses, play no part in it.
        var signedIn = http.User.Identity?.IsAuthenticated == true;
        var address = Caller.Address(http);
        if (!signedIn && !await BridgeSettings.AllowAnonymousAsync(db))
            return BridgeResults.Error(StatusCodes.Status401Unauthorized, "Authentication required: sign in to chat");
        if (limits.AcquireMessage(signedIn ? http.User.UserId() : null, address) is { } wait)
            return BridgeResults.RateLimited(http, wait, signedIn ? "too many messages from this account" : "too many messages from this address");
        // The role before the body: a viewer is refused without a byte of it read (so the body is not a bound parameter here).
        if (signedIn && !(await authorization.AuthorizeAsync(http.User, Policies.Member)).Succeeded)
            return BridgeResults.Error(StatusCodes.Status403Forbidden, "This account may not chat");
        var body = (await BridgeBody.BindAsync(http))!;
        if (body.Unread(http) is { } unread) return unread;
        if (body.Malformed) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid JSON");
        if (!body.TryGet("session_id", out var sessionValue) || !body.TryGet("message", out var messageValue))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing required fields");
        if (BridgeInput.SessionId(sessionValue) is not { } sessionId) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session ID");
        if (BridgeInput.Message(messageValue, await BridgeSettings.MaxMessageLengthAsync(db)) is not { } message)
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid message");
        if (!signedIn && limits.AcquireAnonymousBytes(address, System.Text.Encoding.UTF8.GetByteCount(message)) is { } byteWait)
            return BridgeResults.RateLimited(http, byteWait, "too much anonymous text stored today");

        long? userId = signedIn ? http.User.UserId() : null;
        string? agentId = null;
        if (body.TryGet("agent_id", out var agentValue) && agentValue.ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            agentId = agentValue.ValueKind == System.Text.Json.JsonValueKind.String ? agentValue.GetString() : null;
            if (agentId is null || !await MayChatWithAsync(agentId, http.User)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid agent");
        }

        var now = Timestamp.Now(clock);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var session = await db.QuerySingleOrDefaultAsync<SessionOwner>(
            SessionOwnerSql, new { sessionId }, tx);
        var isNew = session is null;
        if (session is not null)
        {
            if (session.UserId != userId) return BridgeResults.Error(StatusCodes.Status403Forbidden, "Session belongs to another user");
            if (agentId is not null && session.AgentId is not null && session.AgentId != agentId)
                return BridgeResults.Error(StatusCodes.Status400BadRequest, "Session is bound to another agent");
            await db.ExecuteAsync("""
                UPDATE web_chat_sessions SET last_active = @now, is_active = TRUE, agent_id = COALESCE(agent_id, @agentId)
                WHERE id = @sessionId
                """, new { sessionId, now, agentId }, tx);
            if (session.AgentId is null && agentId is not null)
            {
                // The session now has its agent: its waiting messages go to that agent's relay too.
                await db.ExecuteAsync(AdoptAgentSql, new { sessionId, agentId }, tx);
            }
            session = session with { AgentId = session.AgentId ?? agentId };
        }
        else
        {
            session = new SessionOwner { Uid = NewUid(), UserId = userId, AgentId = agentId };
            await db.ExecuteAsync("""
                INSERT INTO web_chat_sessions (id, uid, user_id, agent_id, ip_address, user_agent, created_at, last_active, is_active)
                VALUES (@sessionId, @uid, @userId, @agentId, @ip, @userAgent, @now, @now, TRUE)
                """,
                new
                {
                    sessionId, uid = session.Uid, userId, agentId, ip = Caller.Address(http),
                    userAgent = Caller.UserAgent(http), now,
                }, tx);
        }
        var messageId = await db.ExecuteScalarAsync<long>("""
            INSERT INTO web_chat_messages (session_id, message, timestamp, user_id, agent_id)
            VALUES (@sessionId, @message, @now, @userId, @agentId)
            RETURNING id
            """, new { sessionId, message, now, userId, agentId = session.AgentId }, tx);
        await tx.CommitAsync();
        metrics.BridgeMessage("in");
        return BridgeResults.Ok(new MessageReceipt(messageId, sessionId, now, session.Uid, isNew));
    }

    /// <summary>Limited per client address by its rate-limit policy (<see cref="BridgeRateLimits.Responses"/>).</summary>
    public async Task<IResult> Responses(HttpContext http, string? sessionIdText, string? sinceText, string? afterIdText)
    {
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

        var owner = await db.QuerySingleOrDefaultAsync<SessionOwner>(SessionOwnerSql, new { sessionId });
        if (owner?.UserId is { } ownerId && (http.User.Identity?.IsAuthenticated != true || http.User.UserId() != ownerId))
            return BridgeResults.Error(StatusCodes.Status403Forbidden, "Session belongs to another user");

        // An unknown session simply has no responses: a GET never creates one.
        var responses = (await db.QueryAsync<ChatResponse>(ResponsesSql(since is not null, afterId is not null),
            new { sessionId, since, afterId, max = MaxResponsesPerRead })).ToList();
        return BridgeResults.Ok(new ResponsesData(sessionId, responses));
    }

    /// <summary>A session's responses oldest first; only the filters given are in the SQL, so after_id is an index range.</summary>
    public static string ResponsesSql(bool bySince, bool byAfterId) => $"""
        SELECT id, response, timestamp, message_id FROM web_chat_responses
        WHERE session_id = @sessionId{(byAfterId ? " AND id > @afterId" : "")}{(bySince ? " AND timestamp >= @since" : "")}
        ORDER BY id
        LIMIT @max
        """;

    private async Task<bool> MayChatWithAsync(string agentId, ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated == true)
        {
            return await db.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id AND is_active = TRUE AND {AgentVisibility.Where})",
                AgentVisibility.Parameters(user, agentId));
        }
        // Anonymous web chat may reach only agents visible to everyone.
        return await db.ExecuteScalarAsync<bool>("""
            SELECT EXISTS (SELECT 1 FROM agents WHERE id = @agentId AND is_active = TRUE AND visible_to_users IS NULL AND visible_to_roles IS NULL)
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
