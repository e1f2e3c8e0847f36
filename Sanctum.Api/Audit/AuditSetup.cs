using Sanctum.Api.Jobs;

namespace Sanctum.Api.Audit;

public static class AuditSetup
{
    /// <summary>The audit log, its background writer, and the audit-retention job kind.</summary>
    public static IServiceCollection AddSanctumAudit(this IServiceCollection services)
    {
        services.AddSingleton<RecordKeys>();
        services.AddSingleton<AuditChain>();
        services.AddSingleton<AuditVerifier>();
        services.AddSingleton<AuditLog>();
        services.AddHostedService<AuditWriter>();
        services.AddSingleton<IJobKind, AuditRetention>();
        return services;
    }
}
