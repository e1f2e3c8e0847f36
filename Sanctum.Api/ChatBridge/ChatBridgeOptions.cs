namespace Sanctum.Api.ChatBridge;

/// <summary>The <c>Sanctum:ChatBridge</c> section: requests allowed per minute for each rate-limited action.</summary>
public sealed class ChatBridgeOptions
{
    public const string Section = "Sanctum:ChatBridge";

    /// <summary>Per session id and client address.</summary>
    public int MessagesPerMinute { get; set; } = 30;
    /// <summary>Per bridge key.</summary>
    public int InboxPerMinute { get; set; } = 120;
    /// <summary>Per bridge key.</summary>
    public int OutboxPerMinute { get; set; } = 240;
    /// <summary>Per session id and client address.</summary>
    public int ResponsesPerMinute { get; set; } = 120;
    /// <summary>Per bridge key.</summary>
    public int SessionsPerMinute { get; set; } = 60;
}
