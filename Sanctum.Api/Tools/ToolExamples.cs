using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Tools;

/// <summary>The tool and tool instance request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class ToolExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(ToolWrite)] = new ToolWrite
        {
            Id = "weather", Name = "Weather", Description = "Forecasts for the agents", Emoji = "⛅", Category = "master", Status = "Healthy",
            RoutePath = "/weather", IsEnabled = true, ModuleScope = "global", ConfigSchema = RequestExamples.Json(new { type = "object" }),
        },
        [typeof(ToolInstanceWrite)] = new ToolInstanceWrite
        {
            AgentId = "athena", Name = "Athena's forecasts", Config = RequestExamples.Json(new { city = "Lisbon" }), Status = "Ready",
            HealthCheck = RequestExamples.Json(new { type = "http", target = "http://127.0.0.1:8080/health", interval_seconds = 60, timeout_ms = 5000 }),
        },
    };
}
