namespace Sanctum.Api.ChatBridge;

public static class ChatBridgeSetup
{
    /// <summary>The bridge's actions, its per-action rate limits, and its error envelope for everything under /api/v1.</summary>
    public static IServiceCollection AddChatBridge(this IServiceCollection services)
    {
        services.AddOptions<ChatBridgeOptions>().BindConfiguration(ChatBridgeOptions.Section)
            .Validate(o => new[] { o.MessagesPerMinute, o.InboxPerMinute, o.OutboxPerMinute, o.ResponsesPerMinute, o.SessionsPerMinute }.All(n => n >= 1),
                $"{ChatBridgeOptions.Section} rate limits must be at least 1 per minute.")
            .ValidateOnStart();
        services.AddSingleton<BridgeRateLimits>();
        services.AddScoped<BridgeGate>();
        services.AddScoped<ChatMessages>();
        services.AddScoped<BrocaRelay>();
        services.AddScoped<BridgeAdmin>();
        // First in line, so that under /api/v1 it answers before the default problem+json writer is asked.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, BridgeErrorWriter>());
        return services;
    }
}
