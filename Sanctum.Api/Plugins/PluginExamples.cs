using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Plugins;

/// <summary>The plugin request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class PluginExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(PluginRequest)] = new PluginRequest { Name = "radar", Version = "1.2.0", Status = "Active", Config = RequestExamples.Json(new { zoom = 3 }), Dependencies = [], IsEnabled = true },
    };
}
