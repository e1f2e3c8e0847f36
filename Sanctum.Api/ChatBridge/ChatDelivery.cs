using System.Data;
using Dapper;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// At-least-once delivery of chat messages to relays. <c>inbox</c> leases the oldest open messages (waiting, or leased
/// with the lease run out) in one <c>UPDATE ... RETURNING</c>, so two relays never both hold a message inside its lease;
/// a reply on <c>outbox</c> answers the session's leased messages; a message handed out
/// <see cref="ChatBridgeOptions.MaxDeliveryAttempts"/> times without an answer becomes undelivered. Every query here
/// is an index lookup whatever the backlog (asserted by the plan tests).
/// </summary>
public static class ChatDelivery
{
    public const string Waiting = "waiting", Leased = "leased", Answered = "answered", Undelivered = "undelivered";

    /// <summary>How many open messages a poll counts at most: an exact count of a long backlog would cost every poll.</summary>
    public const int TotalCap = 1000;

    // The partial indexes' own predicate, written out the same way, so SQLite may use them.
    private const string Open = "delivery_state IN ('waiting','leased')";
    private const string Due = "(delivery_state = 'waiting' OR (lease_until <= @now AND delivery_attempts < @maxAttempts))";

    /// <summary>The open messages a poll may take, oldest first; only the filters given are in the SQL.</summary>
    public static string DueSql(bool byAgent, bool bySince) =>
        $"SELECT id FROM web_chat_messages WHERE {Open}{(byAgent ? " AND agent_id = @agentId" : "")}{(bySince ? " AND timestamp >= @since" : "")} AND {Due} ORDER BY id";

    /// <summary>How many messages are due, counted up to @cap.</summary>
    public static string CountSql(bool byAgent, bool bySince) => $"SELECT COUNT(*) FROM ({DueSql(byAgent, bySince)} LIMIT @cap) AS due";

    /// <summary>
    /// Leases a page of due messages and returns them (in no particular order). With <paramref name="skipLocked"/>
    /// (PostgreSQL, where pollers run at once) rows another poll is leasing right now are skipped, not waited for.
    /// </summary>
    public static string HandOutSql(bool byAgent, bool bySince, string skipLocked = "") => $"""
        UPDATE web_chat_messages SET delivery_state = 'leased', lease_until = @leaseUntil, delivery_attempts = delivery_attempts + 1
        WHERE id IN ({DueSql(byAgent, bySince)} LIMIT @limit OFFSET @offset{skipLocked})
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

    public static long CountDue(IDbConnection db, string? agentId, string? since, string now, int maxAttempts, int cap) =>
        db.ExecuteScalar<long>(CountSql(agentId is not null, since is not null), new { agentId, since, now, maxAttempts, cap });

    /// <summary>Gives up on exhausted leases, then leases a page of due messages; call inside the write transaction.</summary>
    public static List<HandedOut> HandOut(IDbConnection db, IDbTransaction tx, Data.SqlDialect dialect, string? agentId, string? since, int limit, int offset,
        DateTimeOffset now, ChatBridgeOptions options)
    {
        var nowText = Data.Timestamp.From(now);
        db.Execute(GiveUpSql, new { now = nowText, maxAttempts = options.MaxDeliveryAttempts }, tx);
        return db.Query<HandedOut>(HandOutSql(agentId is not null, since is not null, dialect.SkipLocked), new
        {
            agentId, since, limit, offset, now = nowText, maxAttempts = options.MaxDeliveryAttempts,
            leaseUntil = Data.Timestamp.From(now.AddSeconds(options.DeliveryLeaseSeconds)),
        }, tx).OrderBy(m => m.Id).ToList();
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
