namespace Sanctum.Api.ChatBridge;

/// <summary>The <c>Sanctum:ChatBridge</c> section: rate limits, message delivery to relays, and relay presence.</summary>
public sealed class ChatBridgeOptions
{
    public const string Section = "Sanctum:ChatBridge";

    /// <summary>Messages per minute of a signed-in user (per user, whatever the session or address).</summary>
    public int MessagesPerMinute { get; set; } = 30;
    /// <summary>Per bridge key.</summary>
    public int InboxPerMinute { get; set; } = 120;
    /// <summary>Per bridge key.</summary>
    public int OutboxPerMinute { get; set; } = 240;
    /// <summary>Per session id and client address.</summary>
    public int ResponsesPerMinute { get; set; } = 120;
    /// <summary>Per bridge key.</summary>
    public int SessionsPerMinute { get; set; } = 60;
    /// <summary>Wrong or missing keys per minute from one client address, over all keyed actions; then 429 for any key.</summary>
    public int WrongKeysPerMinute { get; set; } = 20;

    /// <summary>Anonymous messages per hour from one client address (the protocol's reference bridge allows 50), whatever the session ids.</summary>
    public int AnonymousMessagesPerHourPerAddress { get; set; } = 50;
    /// <summary>Anonymous messages per hour from all addresses together.</summary>
    public int AnonymousMessagesPerHour { get; set; } = 1000;
    /// <summary>Bytes of anonymous message text stored per day from one client address.</summary>
    public int AnonymousBytesPerDayPerAddress { get; set; } = 1_000_000;
    /// <summary>Bytes of anonymous message text stored per day from all addresses together.</summary>
    public int AnonymousBytesPerDay { get; set; } = 20_000_000;

    /// <summary>Seconds a request body may take to arrive whole; a slower one is refused with 408.</summary>
    public int BodyReadSeconds { get; set; } = 10;

    /// <summary>How long a message handed out by inbox is reserved for that relay before it is handed out again.</summary>
    public int DeliveryLeaseSeconds { get; set; } = 120;
    /// <summary>How many times a message is handed out before it is marked undelivered.</summary>
    public int MaxDeliveryAttempts { get; set; } = 5;
    /// <summary>An agent whose inbox a relay polled within this many seconds is Healthy; older, Degraded.</summary>
    public int RelayWindowSeconds { get; set; } = 60;
}
