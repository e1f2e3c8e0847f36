using Dapper;
using FluentMigrator.Runner;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sanctum.Api.Data;

namespace Sanctum.Api.Health;

/// <summary>/healthz: the process answers. /readyz: the database answers and is fully migrated, and every secret decrypts.</summary>
public static class HealthEndpoints
{
    private const string Live = "live";
    private const string Ready = "ready";

    public static IServiceCollection AddSanctumHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: [Live])
            .AddCheck<DatabaseReadyCheck>("database", tags: [Ready])
            .AddCheck<DiskSpaceCheck>("disk", tags: [Ready])
            .AddCheck<Settings.UnreadableSecretsCheck>("secrets", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        // Liveness answers even while a restore holds the gate, so an orchestrator never restarts a restoring server.
        routes.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Live) }).WithTags("Health")
            .WithMetadata(new MaintenanceGate.Bypass());
        routes.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready) }).WithTags("Health");
        return routes;
    }

    private sealed class DatabaseReadyCheck(Database database, IServiceScopeFactory scopes) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using (var connection = await database.OpenAsync(cancellationToken)) await connection.ExecuteScalarAsync<long>("SELECT 1");
                using var scope = scopes.CreateScope();
                var pending = scope.ServiceProvider.GetRequiredService<IMigrationRunner>().HasMigrationsToApplyUp();
                return pending
                    ? HealthCheckResult.Unhealthy("The database has migrations left to apply.")
                    : HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException)
            {
                return HealthCheckResult.Unhealthy("The database cannot be reached.", e);
            }
        }
    }
}
