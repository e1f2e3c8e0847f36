using System.Globalization;
using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Auth;
using Sanctum.Api.ChatBridge;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Chat;

/// <summary>
/// A signed-in user's own chat history, kept on the server: their sessions, and each session's messages and replies
/// with their delivery state. Nobody else's sessions are visible here, not even to admins (another's session is 404).
/// </summary>
public static class ChatHistoryApi
{
    public const int DefaultLimit = 50, MaxLimit = 100;
    /// <summary>The page cursor: "MESSAGE_ID.RESPONSE_ID".</summary>
    public const string CursorPattern = @"^[0-9]{1,19}\.[0-9]{1,19}$";
    public const int MaxCursor = 39;

    public static RouteGroupBuilder MapChatHistory(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/chat").WithTags("Chat history").RequireReader();
        group.MapGet("/sessions", Sessions).WithName("ListMyChatSessions").Paged(MaxLimit)
            .WithSummary("The caller's own chat sessions, most recently active first; agent_id narrows to one agent")
            .ProducesValidationProblem();
        group.MapGet("/sessions/{id}/messages", Messages).WithName("GetMyChatMessages").Paged(MaxLimit)
            .WithSummary("A page of one of the caller's sessions, oldest first: messages with their delivery state and the replies; before= pages back")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private const string SummaryColumns = """
        s.id, s.agent_id, s.created_at, s.last_active,
        (SELECT COUNT(*) FROM web_chat_messages m WHERE m.session_id = s.id) AS message_count,
        (SELECT COUNT(*) FROM web_chat_responses r WHERE r.session_id = s.id) AS response_count,
        (SELECT substr(m.message, 1, 200) FROM web_chat_messages m WHERE m.session_id = s.id ORDER BY m.id LIMIT 1) AS title
        """;

    public static string SessionsSql(bool byAgent) => $"""
        SELECT {SummaryColumns} FROM web_chat_sessions s
        WHERE s.user_id = @userId{(byAgent ? " AND s.agent_id = @agentId" : "")}
        ORDER BY s.last_active DESC
        LIMIT @take OFFSET @offset
        """;

    public const string SessionSql = $"SELECT {SummaryColumns} FROM web_chat_sessions s WHERE s.id = @id AND s.user_id = @userId";

    public const string MessagesPageSql = """
        SELECT id, message AS text, timestamp, delivery_state, delivery_attempts, lease_until FROM web_chat_messages
        WHERE session_id = @id AND id < @beforeMessage ORDER BY id DESC LIMIT @limit
        """;

    public const string ResponsesPageSql = """
        SELECT id, response AS text, timestamp, message_id FROM web_chat_responses
        WHERE session_id = @id AND id < @beforeResponse ORDER BY id DESC LIMIT @limit
        """;

    private static async Task<Results<Ok<ChatSessionPage>, ValidationProblem>> Sessions(
        DbConnection db, ClaimsPrincipal user, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "agent_id")] string? agentId,
        int? limit, int? offset)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (offset is < 0) errors.Add("offset", "Must not be negative.");
        if (errors.Any) return Problems.Invalid(errors);
        var take = limit ?? DefaultLimit;
        var skip = offset ?? 0;
        var rows = (await db.QueryAsync<ChatSessionSummary>(SessionsSql(agentId is not null),
            new { userId = user.UserId(), agentId, take = take + 1, offset = skip })).ToList();
        return TypedResults.Ok(new ChatSessionPage(rows.Take(take).ToList(), take, skip, rows.Count > take));
    }

    private static async Task<Results<Ok<ChatHistoryPage>, ValidationProblem, ProblemHttpResult>> Messages(
        string id, DbConnection db, ClaimsPrincipal user, TimeProvider clock, IOptions<ChatBridgeOptions> options, string? before, int? limit)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        var cursor = Cursor.Parse(before);
        if (cursor is null) errors.Add("before", "Must be a next_before value from a previous page.");
        if (errors.Any) return Problems.Invalid(errors);
        if (await db.QuerySingleOrDefaultAsync<ChatSessionSummary>(SessionSql, new { id, userId = user.UserId() }) is not { } session)
            return Problems.NotFound($"Chat session '{id}'");

        var take = limit ?? DefaultLimit;
        var now = Timestamp.Now(clock);
        var maxAttempts = options.Value.MaxDeliveryAttempts;
        var (beforeMessage, beforeResponse) = cursor!.Value;
        var arguments = new { id, beforeMessage, beforeResponse, limit = take };
        var messages = (await db.QueryAsync<StoredMessage>(MessagesPageSql, arguments)).Select(m => new ChatHistoryItem
        {
            Kind = "message", Id = m.Id, Text = m.Text, Timestamp = m.Timestamp, DeliveryAttempts = m.DeliveryAttempts,
            DeliveryState = ChatDelivery.Shown(m.DeliveryState, m.LeaseUntil, m.DeliveryAttempts, now, maxAttempts),
        }).ToList();
        var responses = (await db.QueryAsync<StoredResponse>(ResponsesPageSql, arguments))
            .Select(r => new ChatHistoryItem { Kind = "response", Id = r.Id, Text = r.Text, Timestamp = r.Timestamp, MessageId = r.MessageId })
            .ToList();

        // Newest first across both, take a page, then give it oldest first. Times are whole seconds, so within a second
        // a reply follows the message it answers (a reply that names none follows every message of that second). Each
        // table's lines taken are its newest, so the next cursor is the oldest id taken from each (or the same bound).
        var newestFirst = messages.Concat(responses)
            .OrderByDescending(i => i.Timestamp, StringComparer.Ordinal)
            .ThenByDescending(i => i.Kind == "message" ? i.Id : i.MessageId ?? long.MaxValue)
            .ThenByDescending(i => i.Kind == "response")
            .ThenByDescending(i => i.Id)
            .ToList();
        var page = newestFirst.Take(take).ToList();
        var more = newestFirst.Count > take || messages.Count == take || responses.Count == take;
        string? next = null;
        if (more)
        {
            var nextMessage = page.Where(i => i.Kind == "message").Select(i => i.Id).DefaultIfEmpty(beforeMessage).Min();
            var nextResponse = page.Where(i => i.Kind == "response").Select(i => i.Id).DefaultIfEmpty(beforeResponse).Min();
            next = Cursor.Format(nextMessage, nextResponse);
        }
        page.Reverse();
        return TypedResults.Ok(new ChatHistoryPage(session, page, next));
    }

    /// <summary>The page cursor: "MESSAGE_ID.RESPONSE_ID", the exclusive upper bounds in each table.</summary>
    private static class Cursor
    {
        public static (long Message, long Response)? Parse(string? text)
        {
            if (string.IsNullOrEmpty(text)) return (long.MaxValue, long.MaxValue);
            var parts = text.Split('.');
            return parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var message)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var response)
                ? (message, response)
                : null;
        }

        public static string Format(long message, long response) =>
            string.Create(CultureInfo.InvariantCulture, $"{message}.{response}");
    }

    private sealed record StoredMessage
    {
        public long Id { get; init; }
        public required string Text { get; init; }
        public required string Timestamp { get; init; }
        public required string DeliveryState { get; init; }
        public long DeliveryAttempts { get; init; }
        public string? LeaseUntil { get; init; }
    }

    private sealed record StoredResponse
    {
        public long Id { get; init; }
        public required string Text { get; init; }
        public required string Timestamp { get; init; }
        public long? MessageId { get; init; }
    }
}
