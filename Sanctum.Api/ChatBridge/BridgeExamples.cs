using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.ChatBridge;

/// <summary>The chat bridge request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class BridgeExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(MessageRequest)] = new MessageRequest { SessionId = "session_7f3a9c", Message = "What is on my calendar today?", AgentId = "athena" },
        [typeof(OutboxRequest)] = new OutboxRequest { SessionId = "session_7f3a9c", Response = "Two meetings: 10:00 and 15:30.", MessageId = 42 },
        [typeof(BridgeConfigRequest)] = new BridgeConfigRequest { MaxMessageLength = 4000, SessionTimeout = 3600 },
    };
}
