using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>The setting write and rollback request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class SettingExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(SettingWrite)] = new SettingWrite { Value = RequestExamples.Json(30), IsEncrypted = false },
        [typeof(SettingRollback)] = new SettingRollback { Version = 3 },
    };
}
