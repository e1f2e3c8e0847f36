using System.Text.Json;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The relay's side of the bridge (Broca's web-chat plugin): take new messages from the inbox, post responses to the
/// outbox. Needs the bridge API key, the admin key, or an agent's own key (which sees only that agent's sessions).
/// </summary>
public sealed class BrocaRelay(SqliteConnection db, TimeProvider clock, BridgeGate gate, IOptions<SanctumOptions> options)
{
    private const string InboxWhere = """
        m.processed = 0 AND (@agentId IS NULL OR s.agent_id = @agentId) AND (@since IS NULL OR m.timestamp >= @since)
        """;

    public IResult Inbox(HttpContext http, string? limitText, string? offsetText, string? sinceText)
    {
        var (caller, refusal) = gate.Admit(http, "inbox", adminOnly: false);
        if (refusal is not null) return refusal;
        if (BridgeInput.Paging(limitText, offsetText, out var error) is not { } paging) return BridgeResults.Error(StatusCodes.Status400BadRequest, error!);
        var (limit, offset) = paging;
        if (!BridgeInput.TrySince(sinceText, out var since)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid since parameter");

        // One IMMEDIATE transaction counts, reads and marks, so concurrent polls queue and no message is handed out twice.
        var filter = new { agentId = caller!.AgentId, since, limit, offset };
        db.Open();
        using var tx = db.BeginTransaction();
        var total = db.ExecuteScalar<long>($"""
            SELECT COUNT(*) FROM web_chat_messages m JOIN web_chat_sessions s ON s.id = m.session_id WHERE {InboxWhere}
            """, filter, tx);
        var messages = db.Query<InboxMessage>($"""
            SELECT m.id, m.session_id, m.message, m.timestamp, s.uid, s.agent_id, m.user_id
            FROM web_chat_messages m JOIN web_chat_sessions s ON s.id = m.session_id
            WHERE {InboxWhere}
            ORDER BY m.id
            LIMIT @limit OFFSET @offset
            """, filter, tx).ToList();
        if (messages.Count > 0)
            db.Execute("UPDATE web_chat_messages SET processed = 1 WHERE id IN @ids", new { ids = messages.Select(m => m.Id) }, tx);
        tx.Commit();
        return BridgeResults.Ok(new InboxData(messages, new Pagination(total, limit, offset, offset + messages.Count < total)));
    }

    public async Task<IResult> Outbox(HttpContext http)
    {
        var (caller, refusal) = gate.Admit(http, "outbox", adminOnly: false);
        if (refusal is not null) return refusal;
        var body = await BridgeInput.ReadBodyAsync(http.Request, options.Value.MaxRequestBodyBytes);
        if (body.TooLarge) return BridgeResults.Error(StatusCodes.Status413PayloadTooLarge, "Request too large");
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
        db.Open();
        using var tx = db.BeginTransaction();
        // An agent's key answers only its own agent's sessions.
        var known = db.ExecuteScalar<bool>("""
            SELECT EXISTS (SELECT 1 FROM web_chat_sessions WHERE id = @sessionId AND (@agentId IS NULL OR agent_id = @agentId))
            """, new { sessionId, agentId = caller!.AgentId }, tx);
        if (!known) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid session");
        if (messageId is not null
            && !db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM web_chat_messages WHERE id = @messageId AND session_id = @sessionId)",
                new { messageId, sessionId }, tx))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid message ID");

        var responseId = db.ExecuteScalar<long>("""
            INSERT INTO web_chat_responses (session_id, message_id, response, timestamp, status)
            VALUES (@sessionId, @messageId, @response, @now, 'sent')
            RETURNING id
            """, new { sessionId, messageId, response, now }, tx);
        db.Execute("UPDATE web_chat_sessions SET last_active = @now WHERE id = @sessionId", new { sessionId, now }, tx);
        tx.Commit();
        return BridgeResults.Ok(new ResponseReceipt(responseId, sessionId, now));
    }
}
