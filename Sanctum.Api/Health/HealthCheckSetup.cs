namespace Sanctum.Api.Health;

public static class HealthCheckSetup
{
    /// <summary>Instance health checks: options, the probe, the recorder and the background runner.</summary>
    public static IServiceCollection AddInstanceHealthChecks(this IServiceCollection services)
    {
        services.AddOptions<InstanceCheckOptions>().BindConfiguration(InstanceCheckOptions.Section)
            .Validate(o => o.Concurrency >= 1 && o.OffAfterFailures >= 1 && o.DegradedLatencyMs >= 1 && o.PollInterval > TimeSpan.Zero,
                "Sanctum:HealthChecks needs Concurrency, OffAfterFailures, DegradedLatencyMs >= 1 and a positive PollInterval.")
            .ValidateOnStart();
        // No redirects followed: a check reports what its target answers.
        services.AddHttpClient(HealthProbe.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<CheckRecorder>();
        services.AddSingleton<HealthCheckRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthCheckRunner>());
        return services;
    }
}
