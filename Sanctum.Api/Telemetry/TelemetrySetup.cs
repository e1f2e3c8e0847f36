using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Sanctum.Api.Telemetry;

public static class TelemetrySetup
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static readonly string[] PerRequestExtras =
    [
        "http.server.active_requests", "aspnetcore.routing.match_attempts",
        "aspnetcore.rate_limiting.active_request_leases", "aspnetcore.rate_limiting.request_lease.duration",
        "aspnetcore.rate_limiting.queued_requests", "aspnetcore.rate_limiting.request.time_in_queue",
        "aspnetcore.authentication.authenticate.duration", "aspnetcore.authorization.attempts",
        // Kestrel's buffer pool counts every rent and return: several per request.
        "aspnetcore.memory_pool.rented", "aspnetcore.memory_pool.pooled",
    ];

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
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddMeter(SanctumMetrics.MeterName);
                // Each request records every enabled per-request instrument; beyond the request duration (which has
                // the route, method and status) they cost the reads measurably (bench/telemetry-cost.sh), so they are
                // not enabled. Per-connection, exception and rate-limit rejection counts stay.
                foreach (var instrument in PerRequestExtras) metrics.AddView(instrument, MetricStreamConfiguration.Drop);
                metrics.AddOtlpExporter();
            });
        return services;
    }
}
