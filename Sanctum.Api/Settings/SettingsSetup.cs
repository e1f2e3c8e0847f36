using System.Text.Json;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

public static class SettingsSetup
{
    /// <summary>The settings core (every store's reads and writes), and the chat keys' first values after migrating.</summary>
    public static IServiceCollection AddSettings(this IServiceCollection services)
    {
        services.AddSingleton<SettingsCore>();
        services.AddSingleton(new AfterMigration(EnsureChatKeysAsync));
        return services;
    }

    /// <summary>
    /// Gives each chat bridge key a random value on first start (the migration leaves them empty), through the settings
    /// core so the change is recorded and the key's digest kept; fills digests a key ring upgrade left missing.
    /// </summary>
    public static async Task EnsureChatKeysAsync(this IServiceProvider services)
    {
        var core = services.GetRequiredService<SettingsCore>();
        await using var db = await services.GetRequiredService<Database>().OpenAsync();
        foreach (var key in SettingsCore.BearerKeys)
        {
            await using var tx = await db.BeginTransactionAsync();
            var at = SettingAddress.System(key);
            if (await core.FindAsync(db, at, tx) is { Value: null or "" })
            {
                var outcome = await core.ApplyAsync(db, tx, at, new SettingWrite { Value = JsonSerializer.SerializeToElement(Secrets.NewKey()) }, null, SettingsCore.SystemActor);
                if (!outcome.Succeeded) throw new InvalidOperationException($"Could not set {key}: {outcome.Detail}");
                await tx.CommitAsync();
                core.Committed(outcome, at, null);
            }
        }
        await core.FillMissingDigestsAsync(db);
    }
}
