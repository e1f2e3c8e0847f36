using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sanctum.Api.Data;

namespace Sanctum.Api.Settings;

/// <summary>
/// /readyz: Degraded while any stored secret cannot be decrypted (its Data Protection key is gone), naming each
/// store and key, so a lost key ring is seen at once rather than when a bridge key or provider token quietly fails.
/// </summary>
public sealed class UnreadableSecretsCheck(Database database, SettingsCore core) : IHealthCheck
{
    private static readonly SettingStore[] Stores =
        [SettingStore.SystemConfig, SettingStore.EnvVars, SettingStore.AgentConfigs, SettingStore.Configurations];

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await database.OpenAsync(cancellationToken);
        var unreadable = new List<string>();
        foreach (var store in Stores)
        {
            var rows = await core.QueryAsync(db, store, $"WHERE t.is_encrypted = TRUE AND t.{store.ValueColumn} <> ''");
            unreadable.AddRange(rows.Where(r => core.Shown(r)?.GetValue<string>() == SettingsCore.Unreadable)
                .Select(r => r.ScopeId is null ? $"{store.Name}/{r.Key}" : $"{store.Name}/{r.Scope}/{r.ScopeId}/{r.Key}"));
        }
        return unreadable.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"Secrets that cannot be decrypted (Data Protection key missing): {string.Join(", ", unreadable)}. Set them again.");
    }
}
