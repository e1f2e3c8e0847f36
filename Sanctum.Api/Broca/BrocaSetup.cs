using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>Operating each agent's Broca from the panel: its files, queue, logs and users.</summary>
public static class BrocaSetup
{
    public static IServiceCollection AddBroca(this IServiceCollection services)
    {
        services.AddOptions<BrocaOptions>().BindConfiguration(BrocaOptions.Section)
            .Validate(o => o.BusyTimeoutMs is >= 0 and <= 60_000, "Sanctum:Broca:BusyTimeoutMs must be 0 to 60000.")
            .Validate(o => o.BatchSize is >= 1 and <= 100_000, "Sanctum:Broca:BatchSize must be 1 to 100000.")
            .Validate(o => o.MaxLogLines is > 0 and <= BrocaLogsApi.MaxLines && o.MaxLogBytes > 0, "Sanctum:Broca:MaxLogLines must be 1 to 10000 and MaxLogBytes positive.")
            .ValidateOnStart();
        services.AddSingleton<BrocaQueueStatsCache>();
        services.AddSingleton<BrocaDatabase>();
        services.AddSingleton<BrocaQueueCheck>();
        return services;
    }

    public static IEndpointRouteBuilder MapBroca(this IEndpointRouteBuilder routes)
    {
        var agent = routes.MapGroup("/api/agents/{id}/broca").WithTags("Broca").WithRequestExamples(BrocaExamples.All).RequireReader();
        agent.MapBrocaFiles();
        agent.MapBrocaQueue();
        agent.MapBrocaLogs();
        routes.MapBrocaUsers();
        return routes;
    }
}
