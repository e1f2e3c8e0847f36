using Sanctum.Api.Health;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Smcp;

public static class SmcpSetup
{
    /// <summary>The MCP client for SMCP instances, the tools catalogue, the plugin registry and the <c>mcp</c> check type.</summary>
    public static IServiceCollection AddSmcp(this IServiceCollection services)
    {
        services.AddOptions<SmcpOptions>().BindConfiguration(SmcpOptions.Section)
            .Validate(o => o.DescribeTimeout > TimeSpan.Zero && o.DescribeMaxBytes > 0 && !string.IsNullOrWhiteSpace(o.Python),
                "Sanctum:Smcp needs a positive DescribeTimeout and DescribeMaxBytes and a Python.")
            .ValidateOnStart();
        services.AddPeerClients();
        services.AddSingleton<SmcpClient>();
        services.AddSingleton<SmcpCatalogue>();
        services.AddSingleton<PluginRegistry>();
        services.AddSingleton<IPeerProbe, SmcpProbe>();
        return services;
    }
}
