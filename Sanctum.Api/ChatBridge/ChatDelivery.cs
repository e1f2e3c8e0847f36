using System.Data;
using Dapper;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// At-least-once delivery of chat messages to relays. <c>inbox</c> leases due messages (leases that ran out first, then
/// waiting messages oldest first) in one <c>UPDATE ... RETURNING</c>, so two relays never both hold a message inside its lease;
/// a reply on <c>outbox</c> answers the session's leased messages; a message handed out
/// <see cref="ChatBridgeOptions.MaxDeliveryAttempts"/> times without an answer becomes undelivered. Every query here
/// is an index lookup whatever the backlog (asserted by the plan tests).
/// </summary>
public static class ChatDelivery
{
    public const string Waiting = "waiting", Leased = "leased", Answered = "answered", Undelivered = "undelivered";

    /// <summary>How many open messages a poll counts at most: an exact count of a long backlog would cost every poll.</summary>
    public const int TotalCap = 1000;

    private static string Filters(bool byAgent, bool bySince) =>
        (byAgent ? " AND agent_id = @agentId" : "") + (bySince ? " AND timestamp >= @since" : "");

    /// <summary>
    /// Leases that ran out with attempts left, by expiry, through the lease indexes: a poll never steps over the leases
    /// still running, however many relays hold. These are handed out again before new messages.
    /// </summary>
    public static string RetrySql(bool byAgent, bool bySince, string take, string skipLocked = "") =>
        $"SELECT id, lease_until FROM web_chat_messages WHERE delivery_state = 'leased' AND lease_until <= @now AND delivery_attempts < @maxAttempts{Filters(byAgent, bySince)} ORDER BY lease_until, id LIMIT {take}{skipLocked}";

    /// <summary>Messages never handed out, oldest first, through the waiting indexes.</summary>
    public static string WaitingSql(bool byAgent, bool bySince, string take, string skipLocked = "") =>
        $"SELECT id FROM web_chat_messages WHERE delivery_state = 'waiting'{Filters(byAgent, bySince)} ORDER BY id LIMIT {take}{skipLocked}";

    /// <summary>The due messages' ids in hand-out order: retries by expiry, then waiting messages oldest first.</summary>
    public static string DueSql(bool byAgent, bool bySince, string skipLocked = "") => $"""
        SELECT id FROM (
            SELECT id, 0 AS is_new, lease_until AS expiry FROM ({RetrySql(byAgent, bySince, "@limit + @offset", skipLocked)}) AS retries
            UNION ALL
            SELECT id, 1, '' FROM ({WaitingSql(byAgent, bySince, "@limit + @offset", skipLocked)}) AS fresh
            ORDER BY is_new, expiry, id LIMIT @limit OFFSET @offset) AS due
        """;

    /// <summary>How many messages are due, each kind counted up to @cap (the caller caps the sum).</summary>
    public static string CountSql(bool byAgent, bool bySince) =>
        $"SELECT (SELECT COUNT(*) FROM ({RetrySql(byAgent, bySince, "@cap")}) AS retries) + (SELECT COUNT(*) FROM ({WaitingSql(byAgent, bySince, "@cap")}) AS fresh)";

    /// <summary>
    /// Leases a page of due messages and returns them (in no particular order). With <paramref name="skipLocked"/>
    /// (a server engine, where pollers run at once) rows another poll is leasing right now are skipped, not waited for.
    /// </summary>
    public static string HandOutSql(bool byAgent, bool bySince, string skipLocked = "") => $"""
        UPDATE web_chat_messages SET delivery_state = 'leased', lease_until = @leaseUntil, delivery_attempts = delivery_attempts + 1
        WHERE id IN ({DueSql(byAgent, bySince, skipLocked)})
        RETURNING id, session_id, message, timestamp, agent_id, user_id
        """;

    /// <summary>Leases that ran out on the last attempt: the message is undelivered (a bounded batch per poll).</summary>
    public const string GiveUpSql = """
        UPDATE web_chat_messages SET delivery_state = 'undelivered', lease_until = NULL
        WHERE id IN (SELECT id FROM web_chat_messages WHERE delivery_state = 'leased' AND lease_until <= @now AND delivery_attempts >= @maxAttempts LIMIT 500)
        """;

    /// <summary>The session's oldest leased message: the one a reply without message_id answers.</summary>
    public const string OldestLeasedSql = """
        SELECT id FROM web_chat_messages WHERE session_id = @sessionId AND delivery_state = 'leased' ORDER BY id LIMIT 1
        """;

    /// <summary>A reply without message_id answers every message of the session handed out so far.</summary>
    public const string AnswerSessionSql = """
        UPDATE web_chat_messages SET delivery_state = 'answered', lease_until = NULL
        WHERE session_id = @sessionId AND delivery_state = 'leased'
        """;

    /// <summary>A reply naming a message answers that message, whatever its state.</summary>
    public const string AnswerMessageSql = """
        UPDATE web_chat_messages SET delivery_state = 'answered', lease_until = NULL
        WHERE id = @messageId AND session_id = @sessionId
        """;

    /// <summary>
    /// The same reply posted again within a lease (a relay's retry, or a second relay answering a message handed out
    /// again): answered with the first one's receipt, so the chat never shows it twice.
    /// </summary>
    public const string SameReplySql = """
        SELECT id, response, timestamp, message_id FROM web_chat_responses
        WHERE session_id = @sessionId AND response = @response AND timestamp >= @after
        ORDER BY id DESC LIMIT 1
        """;

    /// <summary><see cref="SameReplySql"/> for a reply to a known message: only a reply to that message counts.</summary>
    public const string SameReplyToMessageSql = """
        SELECT id, response, timestamp, message_id FROM web_chat_responses
        WHERE message_id = @messageId AND response = @response AND timestamp >= @after
        ORDER BY id DESC LIMIT 1
        """;

    public static async Task<long> CountDueAsync(IDbConnection db, string? agentId, string? since, string now, int maxAttempts, int cap) =>
        Math.Min(cap, await db.ExecuteScalarAsync<long>(CountSql(agentId is not null, since is not null), new { agentId, since, now, maxAttempts, cap }));

    /// <summary>Gives up on exhausted leases, then leases a page of due messages; call inside the write transaction.</summary>
    public static async Task<List<HandedOut>> HandOutAsync(IDbConnection db, IDbTransaction tx, Data.SqlDialect dialect, string? agentId, string? since, int limit, int offset,
        DateTimeOffset now, ChatBridgeOptions options)
    {
        var nowText = Data.Timestamp.From(now);
        await db.ExecuteAsync(GiveUpSql, new { now = nowText, maxAttempts = options.MaxDeliveryAttempts }, tx);
        return (await db.QueryAsync<HandedOut>(HandOutSql(agentId is not null, since is not null, dialect.SkipLocked), new
        {
            agentId, since, limit, offset, now = nowText, maxAttempts = options.MaxDeliveryAttempts,
            leaseUntil = Data.Timestamp.From(now.AddSeconds(options.DeliveryLeaseSeconds)),
        }, tx)).OrderBy(m => m.Id).ToList();
    }

    /// <summary>
    /// The state a person should see: a lease that ran out is waiting again, or undelivered when it was the last attempt.
    /// </summary>
    public static string Shown(string state, string? leaseUntil, long attempts, string now, int maxAttempts) =>
        state == Leased && leaseUntil is not null && string.CompareOrdinal(leaseUntil, now) <= 0
            ? attempts >= maxAttempts ? Undelivered : Waiting
            : state;

    public sealed record HandedOut
    {
        public long Id { get; init; }
        public required string SessionId { get; init; }
        public required string Message { get; init; }
        public required string Timestamp { get; init; }
        public string? AgentId { get; init; }
        public long? UserId { get; init; }
    }
}
