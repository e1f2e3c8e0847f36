namespace Sanctum.Api.Agents;

public static class AgentsSetup
{
    /// <summary>The sweeper that turns agents' relay presence (their relay's last inbox poll) into statuses.</summary>
    public static IServiceCollection AddRelayPresence(this IServiceCollection services)
    {
        services.AddSingleton<RelayPresenceSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<RelayPresenceSweeper>());
        return services;
    }
}
