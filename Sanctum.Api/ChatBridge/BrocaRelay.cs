using System.Text.Json;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Events;
using Sanctum.Api.Agents;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Health;


namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The relay's side of the bridge (Broca's web-chat plugin): take new messages from the inbox, post responses to the
/// outbox. Needs the bridge API key, the admin key, or an agent's own key (which sees only that agent's sessions).
/// </summary>
public sealed class BrocaRelay(
    DbConnection db, TimeProvider clock, IOptions<ChatBridgeOptions> bridgeOptions,
    StatusWriter status, SanctumMetrics metrics, Database database, IEventPublisher events)
{
    /// <summary>The uid (Broca's user id) of each session handed out.</summary>
    public static string SessionUidsSql(SqlDialect dialect) => $"SELECT id, uid FROM web_chat_sessions WHERE id {dialect.InList("@ids")}";

    public async Task<IResult> Inbox(HttpContext http, string? limitText, string? offsetText, string? sinceText)
    {
        var caller = BridgeCaller.Of(http.User);
        if (BridgeInput.Paging(limitText, offsetText, out var error) is not { } paging) return BridgeResults.Error(StatusCodes.Status400BadRequest, error!);
        var (limit, offset) = paging;
        if (!BridgeInput.TrySince(sinceText, out var since)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid since parameter");

        var o = bridgeOptions.Value;
        var now = clock.GetUtcNow();
        var agentId = caller.AgentId;
        // Counted before the hand-out and outside the write transaction, and only up to a cap: a poll holds the write
        // lock only for the lease itself, however long the backlog.
        var cap = Math.Max(ChatDelivery.TotalCap, offset + limit + 1);
        var due = await ChatDelivery.CountDueAsync(db, agentId, since, Timestamp.From(now), o.MaxDeliveryAttempts, cap);

        await db.OpenAsync();
        List<ChatDelivery.HandedOut> handedOut;
        // Read committed, whatever the default: on PostgreSQL concurrent polls skip each other's locked rows
        // (ChatDelivery.HandOutAsync) instead of failing as serialization conflicts; SQLite writes one at a time anyway.
        await using (var tx = await db.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted))
        {
            handedOut = await ChatDelivery.HandOutAsync(db, tx, database.Dialect, agentId, since, limit, offset, now, o);
            // The first poll in a second may change who is Healthy: write it now, not at the next sweep.
            if (await RelayPresence.RecordAsync(db, tx, agentId ?? RelayPresence.AllAgents, now, o.RelayWindowSeconds))
                await RelayPresence.SyncAsync(db, tx, status, now, o.RelayWindowSeconds);
            await tx.CommitAsync();
            status.Committed(tx);
        }
        metrics.RelayPoll();
        var uids = handedOut.Count == 0
            ? []
            : (await db.QueryAsync<(string Id, string Uid)>(SessionUidsSql(database.Dialect), new { ids = handedOut.Select(m => m.SessionId).Distinct().ToArray() }))
                .ToDictionary(s => s.Id, s => s.Uid);
        var messages = handedOut.Select(m => new InboxMessage
        {
            Id = m.Id, SessionId = m.SessionId, Message = m.Message, Timestamp = m.Timestamp, Uid = uids[m.SessionId], AgentId = m.AgentId, UserId = m.UserId,
        }).ToList();
        var total = Math.Max(due, offset + messages.Count);
        return BridgeResults.Ok(new InboxData(messages, new Pagination(total, limit, offset, offset + messages.Count < total)));
    }

    public async Task<IResult> Outbox(HttpContext http, BridgeBody body)
    {
        var caller = BridgeCaller.Of(http.User);
        if (body.Unread(http) is { } unread) return unread;
        if (body.Malformed) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid JSON");
        if (!body.TryGet("session_id", out var sessionValue) || !body.TryGet("response", out var responseValue))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing required fields");
        if (BridgeInput.SessionId(sessionValue) is not { } sessionId) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session ID");
        if (responseValue.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(responseValue.GetString()))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid response");
        var response = responseValue.GetString()!;
        long? messageId = null;
        if (body.TryGet("message_id", out var messageValue) && messageValue.ValueKind != JsonValueKind.Null)
        {
            if (messageValue.ValueKind != JsonValueKind.Number || !messageValue.TryGetInt64(out var id))
                return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid message ID");
            messageId = id;
        }

        var now = Timestamp.Now(clock);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        // An agent's key answers only its own agent's sessions.
        var known = await db.ExecuteScalarAsync<bool>("""
            SELECT EXISTS (SELECT 1 FROM web_chat_sessions WHERE id = @sessionId AND (@agentId IS NULL OR agent_id = @agentId))
            """, new { sessionId, agentId = caller.AgentId }, tx);
        if (!known) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session");
        if (messageId is not null
            && !await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM web_chat_messages WHERE id = @messageId AND session_id = @sessionId)",
                new { messageId, sessionId }, tx))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid message ID");

        // The reply answers the message it names, else the session's oldest leased one (Broca names none).
        var answers = messageId ?? await db.ExecuteScalarAsync<long?>(ChatDelivery.OldestLeasedSql, new { sessionId }, tx);
        var after = Timestamp.From(clock.GetUtcNow().AddSeconds(-bridgeOptions.Value.DeliveryLeaseSeconds));
        var same = await db.QueryFirstOrDefaultAsync<ChatResponse>(answers is null ? ChatDelivery.SameReplySql : ChatDelivery.SameReplyToMessageSql,
            new { sessionId, messageId = answers, response, after }, tx);
        if (same is not null) return BridgeResults.Ok(new ResponseReceipt(same.Id, sessionId, same.Timestamp));

        var responseId = await db.ExecuteScalarAsync<long>("""
            INSERT INTO web_chat_responses (session_id, message_id, response, timestamp, status)
            VALUES (@sessionId, @messageId, @response, @now, 'sent')
            RETURNING id
            """, new { sessionId, messageId = answers, response, now }, tx);
        await db.ExecuteAsync(messageId is null ? ChatDelivery.AnswerSessionSql : ChatDelivery.AnswerMessageSql, new { sessionId, messageId }, tx);
        await db.ExecuteAsync("UPDATE web_chat_sessions SET last_active = @now WHERE id = @sessionId", new { sessionId, now }, tx);
        var owner = await db.QuerySingleAsync<(long? UserId, string? AgentId)>("SELECT user_id, agent_id FROM web_chat_sessions WHERE id = @sessionId", new { sessionId }, tx);
        await tx.CommitAsync();
        // Only its owner (and admins) hear of a reply, and only while they may see its agent; an ownerless session: admins.
        events.Publish($"chat:{sessionId}", "chat.reply", new { session_id = sessionId, response_id = responseId, message_id = answers, timestamp = now },
            new EventAudience(owner.AgentId, owner.UserId ?? -1));
        metrics.BridgeMessage("out");
        return BridgeResults.Ok(new ResponseReceipt(responseId, sessionId, now));
    }
}
