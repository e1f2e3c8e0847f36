using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sanctum.Api.Audit;

public static class AuditSetup
{
    /// <summary>The audit log and its background writer (the audit-retention job kind is a job: Jobs/Kinds/AuditRetentionJob.cs).</summary>
    public static IServiceCollection AddSanctumAudit(this IServiceCollection services)
    {
        services.AddAuditCore();
        services.AddSingleton<AuditVerifier>();
        services.AddHostedService<AuditWriter>();
        return services;
    }

    /// <summary>
    /// What records audit events into the chain: the service's and the import's (its dry run builds a provider of its
    /// own on a scratch copy of the database).
    /// </summary>
    public static IServiceCollection AddAuditCore(this IServiceCollection services)
    {
        services.TryAddSingleton<RecordKeys>();
        services.TryAddSingleton<AuditChain>();
        services.TryAddSingleton<AuditLog>();
        return services;
    }
}
