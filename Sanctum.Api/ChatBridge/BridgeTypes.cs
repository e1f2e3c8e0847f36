using Sanctum.Api.Infrastructure;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.ComponentModel.DataAnnotations;
namespace Sanctum.Api.ChatBridge;

// What the bridge's actions take and give (inside the envelope's data). Wire names are snake_case.

/// <summary>POST messages. The bridge reads the body itself; this type documents it.</summary>
public sealed record MessageRequest
{
    /// <summary>session_ followed by letters, digits or underscores; at most 64 characters.</summary>
    public required string SessionId { get; init; }
    /// <summary>1 to 10,000 characters once trimmed.</summary>
    [MinLength(1)]
    [MaxLength(BridgeInput.MaxMessageLength)]
    public required string Message { get; init; }
    /// <summary>Ignored: the server stamps messages with its own clock.</summary>
    [MaxLength(64)]
    public string? Timestamp { get; init; }
    /// <summary>The agent the user chose (an active agent the caller may see).</summary>
    public string? AgentId { get; init; }
}

public sealed record MessageReceipt(long MessageId, string SessionId, string Timestamp, string Uid, bool IsNewUser);

public sealed record InboxMessage
{
    public long Id { get; init; }
    public required string SessionId { get; init; }
    [MaxLength(BridgeInput.MaxMessageLength)]
    public required string Message { get; init; }
    public required string Timestamp { get; init; }
    /// <summary>The session's stable 16-hex-character user identity (Broca's user id).</summary>
    public required string Uid { get; init; }
    public string? AgentId { get; init; }
    public long? UserId { get; init; }
}

public sealed record Pagination(long Total, [property: Range(1, BridgeInput.MaxLimit)] int Limit, int Offset, bool HasMore);

public sealed record InboxData([property: MaxLength(BridgeInput.MaxLimit)] IReadOnlyList<InboxMessage> Messages, Pagination Pagination);

/// <summary>POST outbox. The bridge reads the body itself; this type documents it.</summary>
public sealed record OutboxRequest
{
    public required string SessionId { get; init; }
    [MinLength(1)]
    [MaxLength(FieldChecks.MaxText)]
    public required string Response { get; init; }
    /// <summary>The message answered, if known (a message of the same session).</summary>
    public long? MessageId { get; init; }
    /// <summary>Ignored: the server stamps responses with its own clock.</summary>
    [MaxLength(64)]
    public string? Timestamp { get; init; }
}

public sealed record ResponseReceipt(long ResponseId, string SessionId, string Timestamp);

public sealed record ChatResponse
{
    public long Id { get; init; }
    [MaxLength(FieldChecks.MaxText)]
    public required string Response { get; init; }
    public required string Timestamp { get; init; }
    public long? MessageId { get; init; }
}

public sealed record ResponsesData(string SessionId, [property: MaxLength(ChatMessages.MaxResponsesPerRead)] IReadOnlyList<ChatResponse> Responses);

public sealed record BridgeSession
{
    [MaxLength(BridgeInput.MaxSessionIdLength)]
    [RegularExpression(BridgeInput.SessionIdPattern)]
    public required string Id { get; init; }
    public required string Uid { get; init; }
    public long? UserId { get; init; }
    public string? AgentId { get; init; }
    public required string CreatedAt { get; init; }
    public required string LastActive { get; init; }
    [MaxLength(45)]
    public string? IpAddress { get; init; }
    public long MessageCount { get; init; }
    public long ResponseCount { get; init; }
}

public sealed record SessionsData([property: MaxLength(BridgeInput.MaxLimit)] IReadOnlyList<BridgeSession> Sessions, Pagination Pagination);

/// <summary>
/// The bridge's own settings; rate limits are requests per minute and come from server configuration. The other keys
/// a bridge client stored through config sit beside them at the top level, as the web chat bridge's protocol has
/// them (plain text, never secrets).
/// </summary>
public sealed record BridgeConfig(
    [property: Range(1, BridgeInput.MaxMessageLength)] int MaxMessageLength, [property: Range(60, 31_536_000)] int SessionTimeout,
    IReadOnlyDictionary<string, int> RateLimits)
{
    [JsonExtensionData, Entries(BridgeSettings.Extra.MaxCount, BridgeSettings.Extra.MaxValueLength)]
    public Dictionary<string, JsonElement>? Settings { get; init; }
}

/// <summary>
/// POST config: the settings to change. Any other key (letters, digits, '_', up to 64; not naming a key, secret,
/// token or password) is stored as a plain bridge setting: a string, number or boolean up to 1,000 characters, at
/// most 50 of them.
/// </summary>
public sealed record BridgeConfigRequest
{
    /// <summary>1 to 10,000.</summary>
    [Range(1, BridgeInput.MaxMessageLength)]
    public int? MaxMessageLength { get; init; }
    /// <summary>Seconds, 60 to 31,536,000.</summary>
    [Range(60, 31_536_000)]
    public int? SessionTimeout { get; init; }
}

public sealed record CleanupResult(int CleanedCount, [property: MaxLength(200)] string Message);

public sealed record ChatCounts(long Sessions, long Messages, long Responses);

public sealed record ClearDataResult(ChatCounts Deleted, ChatCounts Remaining);

public sealed record LogCleanupResult(
    [property: OneOf("console")] string LogDestination, [property: MaxLength(64)] string LogLevel,
    [property: Range(0, 0)] int FilesDeleted, [property: MaxLength(200)] string Message);
