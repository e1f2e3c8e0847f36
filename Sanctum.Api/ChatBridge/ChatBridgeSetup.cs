using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;

namespace Sanctum.Api.ChatBridge;

public static class ChatBridgeSetup
{
    /// <summary>The most bytes one message can take (10,000 characters of four UTF-8 bytes).</summary>
    private const int MinBytesPerDay = BridgeInput.MaxMessageLength * 4;

    /// <summary>The bridge's actions, its keys, its per-action rate limits, and its error envelope for everything under /api/v1.</summary>
    public static IServiceCollection AddChatBridge(this IServiceCollection services)
    {
        services.AddOptions<ChatBridgeOptions>().BindConfiguration(ChatBridgeOptions.Section)
            .Validate(o => new[] { o.MessagesPerMinute, o.InboxPerMinute, o.OutboxPerMinute, o.ResponsesPerMinute, o.SessionsPerMinute, o.WrongKeysPerMinute }.All(n => n >= 1),
                $"{ChatBridgeOptions.Section} rate limits must be at least 1 per minute.")
            .Validate(o => new[] { o.AnonymousMessagesPerHourPerAddress, o.AnonymousMessagesPerHour }.All(n => n >= 1),
                $"{ChatBridgeOptions.Section}:AnonymousMessagesPerHour* must be at least 1.")
            .Validate(o => Math.Min(o.AnonymousBytesPerDayPerAddress, o.AnonymousBytesPerDay) >= MinBytesPerDay,
                $"{ChatBridgeOptions.Section}:AnonymousBytesPerDay* must be at least {MinBytesPerDay} (one longest message).")
            .Validate(o => o.DeliveryLeaseSeconds >= 1 && o.MaxDeliveryAttempts >= 1 && o.RelayWindowSeconds >= 1 && o.BodyReadSeconds >= 1,
                $"{ChatBridgeOptions.Section}:DeliveryLeaseSeconds, MaxDeliveryAttempts, RelayWindowSeconds and BodyReadSeconds must be at least 1.")
            .ValidateOnStart();
        // The keys as an authentication scheme, the policies that ask for them, and the actions' named rate limits.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, BridgeKeyHandler>(BridgeKeyHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(BridgeKeyHandler.RelayPolicy, p => p.AddAuthenticationSchemes(BridgeKeyHandler.SchemeName).RequireClaim(BridgeKeyHandler.KindClaim))
            .AddPolicy(BridgeKeyHandler.AdminPolicy, p => p.AddAuthenticationSchemes(BridgeKeyHandler.SchemeName)
                .RequireClaim(BridgeKeyHandler.KindClaim, nameof(BridgeKeyKind.Admin)));
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ChatBridgeOptions>, Data.Database, TimeProvider>(
            (limiter, bridge, database, clock) => BridgeRateLimits.AddPolicies(limiter, bridge.Value, database, clock));
        services.AddSingleton<BridgeRateLimits>();
        services.AddSingleton<BridgeRefusals>();
        services.AddHostedService(sp => sp.GetRequiredService<BridgeRefusals>());
        services.AddScoped<ChatMessages>();
        services.AddScoped<BrocaRelay>();
        services.AddScoped<BridgeAdmin>();
        // The relays poll the bridge's inbox: the window of their agents' presence is the bridge's, and so is the sweep
        // that turns a relay that stopped polling into its agents' Degraded status.
        services.AddOptions<RelayPresenceOptions>().Configure<IOptions<ChatBridgeOptions>>((presence, bridge) => presence.WindowSeconds = bridge.Value.RelayWindowSeconds);
        services.AddSingleton<RelayPresenceSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RelayPresenceSweeper>());
        // First in line, so that under /api/v1 it answers before the default problem+json writer is asked.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, BridgeErrorWriter>());
        return services;
    }
}
