using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Sanctum.Api.Telemetry;

public static class TelemetrySetup
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// <see cref="SanctumMetrics"/> always (callers count unconditionally; with no listener that costs nothing), and
    /// the OpenTelemetry metrics pipeline (ASP.NET Core, runtime, Sanctum.Api) with the OTLP exporter only when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set: without an exporter nobody reads the aggregates, so nothing is collected.
    /// The exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (protocol, headers, interval).
    /// </summary>
    public static IServiceCollection AddSanctumTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<SanctumMetrics>();
        if (string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable])) return services;

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("sanctum-api", serviceVersion: Status.StatusApi.Version))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(SanctumMetrics.MeterName)
                .AddOtlpExporter());
        return services;
    }
}
