using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Chat;

/// <summary>One of the caller's chat sessions.</summary>
public sealed record ChatSessionSummary
{
    [MaxLength(ChatBridge.BridgeInput.MaxSessionIdLength), RegularExpression(ChatBridge.BridgeInput.SessionIdPattern)]
    public required string Id { get; init; }
    public string? AgentId { get; init; }
    public required string CreatedAt { get; init; }
    public required string LastActive { get; init; }
    public long MessageCount { get; init; }
    public long ResponseCount { get; init; }
    /// <summary>The session's first message (its first 200 characters): what the conversation list calls it.</summary>
    [MaxLength(200)]
    public string? Title { get; init; }
}

public sealed record ChatSessionPage([property: MaxLength(ChatHistoryApi.MaxLimit)] IReadOnlyList<ChatSessionSummary> Items, int Limit, int Offset, bool HasMore);

/// <summary>A line of a conversation: the user's message (kind "message") or the agent's reply (kind "response").</summary>
public sealed record ChatHistoryItem
{
    [OneOf("message", "response")]
    public required string Kind { get; init; }
    public long Id { get; init; }
    [MaxLength(FieldChecks.MaxText)]
    public required string Text { get; init; }
    public required string Timestamp { get; init; }
    /// <summary>Messages: waiting (for a relay), leased (handed to a relay, no reply yet), answered, undelivered.</summary>
    [OneOf(ChatBridge.ChatDelivery.Waiting, ChatBridge.ChatDelivery.Leased, ChatBridge.ChatDelivery.Answered, ChatBridge.ChatDelivery.Undelivered)]
    public string? DeliveryState { get; init; }
    /// <summary>Messages: how many times a relay was handed the message.</summary>
    public long? DeliveryAttempts { get; init; }
    /// <summary>Responses: the message answered, when known.</summary>
    public long? MessageId { get; init; }
}

/// <summary>
/// A page of a conversation, oldest first: the newest <c>limit</c> lines before the cursor. <c>next_before</c> is the
/// cursor of the page before this one (null at the start of the conversation).
/// </summary>
public sealed record ChatHistoryPage(
    ChatSessionSummary Session, [property: MaxLength(ChatHistoryApi.MaxLimit)] IReadOnlyList<ChatHistoryItem> Items,
    [property: MaxLength(ChatHistoryApi.MaxCursor), RegularExpression(ChatHistoryApi.CursorPattern)] string? NextBefore);
