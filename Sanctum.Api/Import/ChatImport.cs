using Dapper;

namespace Sanctum.Api.Import;

/// <summary>
/// The old web chat: sessions keep their session id and uid, messages their processed state (an unprocessed one is
/// still waiting for the relay), responses their link to the message they answer. Timestamps take this service's form.
/// A session already here is matched on its id; its messages and responses on session, time and text.
/// </summary>
public static class ChatImport
{
    public static void Run(ImportContext context)
    {
        var source = context.Source;
        var missing = FlaskSource.ChatTables.Where(t => !source.HasTable(t)).ToList();
        if (missing.Count > 0)
        {
            context.Report.Notes.Add($"no {string.Join(", ", missing)} in the old database: its web chat was never used, so no chat history is imported.");
            if (missing.Count == FlaskSource.ChatTables.Length) return;
        }
        var sessions = source.HasTable("web_chat_sessions") ? Sessions(context) : [];
        var messageIds = source.HasTable("web_chat_messages") ? Messages(context, sessions) : [];
        if (source.HasTable("web_chat_responses")) Responses(context, sessions, messageIds);
    }

    /// <summary>Imports the sessions; returns each usable old session id with the time to use for a row that has none.</summary>
    private static Dictionary<string, SessionState> Sessions(ImportContext context)
    {
        var source = context.Source;
        var report = context.Report.Table("web_chat_sessions");
        var usable = new Dictionary<string, SessionState>(StringComparer.Ordinal);
        var rows = source.Connection.Query<OldSession>($"""
            SELECT {source.Text("web_chat_sessions", "session_id")}, {source.Text("web_chat_sessions", "uid")},
                   {source.Text("web_chat_sessions", "ip_address")}, {source.Text("web_chat_sessions", "user_agent")},
                   {source.Text("web_chat_sessions", "created_at")}, {source.TextOneOf("web_chat_sessions", "last_activity", "last_active")},
                   {source.Integer("web_chat_sessions", "is_active")}, {source.Text("web_chat_sessions", "metadata")}
            FROM web_chat_sessions ORDER BY rowid
            """);
        foreach (var old in rows)
        {
            if (string.IsNullOrWhiteSpace(old.SessionId) || string.IsNullOrWhiteSpace(old.Uid))
            {
                report.Skip("no session id or uid");
                continue;
            }
            var existing = context.Target.QuerySingleOrDefault<ExistingSession>(
                "SELECT id, uid, created_at FROM web_chat_sessions WHERE id = @id OR uid = @uid ORDER BY id = @id DESC LIMIT 1",
                new { id = old.SessionId, uid = old.Uid }, context.Transaction);
            if (existing is not null)
            {
                if (existing.Id == old.SessionId && existing.Uid == old.Uid)
                {
                    usable[old.SessionId] = new SessionState(existing.CreatedAt, IsNew: false);
                    report.Skip("already imported");
                }
                else
                {
                    report.Skip(existing.Id == old.SessionId ? "session id already used here by another chat" : "uid already used here by another session");
                }
                continue;
            }
            var createdAt = ImportContext.Time(old.CreatedAt, context.Now);
            context.Target.Execute("""
                INSERT INTO web_chat_sessions (id, uid, ip_address, user_agent, created_at, last_active, is_active, metadata)
                VALUES (@id, @uid, @ip, @userAgent, @createdAt, @lastActive, @isActive, @metadata)
                """,
                new
                {
                    id = old.SessionId, uid = old.Uid, ip = old.IpAddress, userAgent = old.UserAgent, createdAt,
                    lastActive = ImportContext.Time(old.LastActivity, createdAt), isActive = old.IsActive is not 0,
                    metadata = ImportContext.Json(old.Metadata),
                }, context.Transaction);
            usable[old.SessionId] = new SessionState(createdAt, IsNew: true);
            report.Import();
        }
        return usable;
    }

    /// <summary>Imports the messages; returns old message id to this database's id, for the responses' links.</summary>
    private static Dictionary<long, long> Messages(ImportContext context, Dictionary<string, SessionState> sessions)
    {
        var source = context.Source;
        var report = context.Report.Table("web_chat_messages");
        var ids = new Dictionary<long, long>();
        var rows = source.Connection.Query<OldMessage>($"""
            SELECT id, {source.Text("web_chat_messages", "session_id")}, {source.Text("web_chat_messages", "message")},
                   {source.Text("web_chat_messages", "message_type")}, {source.Integer("web_chat_messages", "processed")},
                   {source.Text("web_chat_messages", "timestamp")}
            FROM web_chat_messages ORDER BY id
            """);
        foreach (var old in rows)
        {
            if (old.SessionId is null || !sessions.TryGetValue(old.SessionId, out var session))
            {
                report.Skip("its session was not imported");
                continue;
            }
            if (old.MessageType is { } type && type != "user")
            {
                report.Skip($"message type '{type}' (only user messages are kept)");
                continue;
            }
            if (old.Message is null)
            {
                report.Skip("no text");
                continue;
            }
            var timestamp = ImportContext.Time(old.Timestamp, session.CreatedAt);
            if (!session.IsNew && context.Target.QuerySingleOrDefault<long?>("""
                    SELECT id FROM web_chat_messages WHERE session_id = @sessionId AND timestamp = @timestamp AND message = @message LIMIT 1
                    """, new { sessionId = old.SessionId, timestamp, message = old.Message }, context.Transaction) is { } present)
            {
                ids[old.Id] = present;
                report.Skip("already imported");
                continue;
            }
            // A processed message was handed to a relay once by the old bridge (delivered); an unprocessed one waits for
            // the next relay, for the session's agent (processed is derived from delivery_state here).
            var processed = old.Processed is not (null or 0);
            ids[old.Id] = context.Target.ExecuteScalar<long>("""
                INSERT INTO web_chat_messages (session_id, message, timestamp, agent_id, delivery_state, delivery_attempts)
                VALUES (@sessionId, @message, @timestamp, (SELECT agent_id FROM web_chat_sessions WHERE id = @sessionId), @state, @attempts)
                RETURNING id
                """, new
                {
                    sessionId = old.SessionId, message = old.Message, timestamp,
                    state = processed ? ChatBridge.ChatDelivery.Answered : ChatBridge.ChatDelivery.Waiting, attempts = processed ? 1 : 0,
                },
                context.Transaction);
            report.Import();
        }
        return ids;
    }

    private static void Responses(ImportContext context, Dictionary<string, SessionState> sessions, Dictionary<long, long> messageIds)
    {
        var source = context.Source;
        var report = context.Report.Table("web_chat_responses");
        var rows = source.Connection.Query<OldResponse>($"""
            SELECT {source.Text("web_chat_responses", "session_id")}, {source.Text("web_chat_responses", "response")},
                   {source.Integer("web_chat_responses", "message_id")}, {source.Text("web_chat_responses", "status")},
                   {source.Text("web_chat_responses", "timestamp")}
            FROM web_chat_responses ORDER BY rowid
            """);
        foreach (var old in rows)
        {
            if (old.SessionId is null || !sessions.TryGetValue(old.SessionId, out var session))
            {
                report.Skip("its session was not imported");
                continue;
            }
            if (old.Response is null)
            {
                report.Skip("no text");
                continue;
            }
            var timestamp = ImportContext.Time(old.Timestamp, session.CreatedAt);
            if (!session.IsNew && context.Target.ExecuteScalar<bool>("""
                    SELECT EXISTS (SELECT 1 FROM web_chat_responses WHERE session_id = @sessionId AND timestamp = @timestamp AND response = @response)
                    """, new { sessionId = old.SessionId, timestamp, response = old.Response }, context.Transaction))
            {
                report.Skip("already imported");
                continue;
            }
            context.Target.Execute("""
                INSERT INTO web_chat_responses (session_id, message_id, response, timestamp, status)
                VALUES (@sessionId, @messageId, @response, @timestamp, @status)
                """,
                new
                {
                    sessionId = old.SessionId,
                    messageId = old.MessageId is { } m && messageIds.TryGetValue(m, out var mapped) ? mapped : (long?)null,
                    response = old.Response, timestamp, status = string.IsNullOrWhiteSpace(old.Status) ? "sent" : old.Status.Trim(),
                }, context.Transaction);
            report.Import();
        }
    }

    private sealed record SessionState(string CreatedAt, bool IsNew);

    private sealed class OldSession
    {
        public string? SessionId { get; init; }
        public string? Uid { get; init; }
        public string? IpAddress { get; init; }
        public string? UserAgent { get; init; }
        public string? CreatedAt { get; init; }
        public string? LastActivity { get; init; }
        public long? IsActive { get; init; }
        public string? Metadata { get; init; }
    }

    private sealed class OldMessage
    {
        public long Id { get; init; }
        public string? SessionId { get; init; }
        public string? Message { get; init; }
        public string? MessageType { get; init; }
        public long? Processed { get; init; }
        public string? Timestamp { get; init; }
    }

    private sealed class OldResponse
    {
        public string? SessionId { get; init; }
        public string? Response { get; init; }
        public long? MessageId { get; init; }
        public string? Status { get; init; }
        public string? Timestamp { get; init; }
    }

    private sealed class ExistingSession
    {
        public required string Id { get; init; }
        public required string Uid { get; init; }
        public required string CreatedAt { get; init; }
    }
}
