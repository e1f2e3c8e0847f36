using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>The Broca settings, environment and user request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class BrocaExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(BrocaSettingsDocument)] = new BrocaSettingsDocument { ["message_mode"] = RequestExamples.Json("listen"), ["queue_refresh"] = RequestExamples.Json(10) },
        [typeof(BrocaEnvDocument)] = new BrocaEnvDocument { ["AGENT_ID"] = RequestExamples.Json("agent-athena"), ["AGENT_API_KEY"] = RequestExamples.Json("********") },
        [typeof(BrocaPromote)] = new BrocaPromote { Role = "viewer" },
        [typeof(BrocaUserUpdate)] = new BrocaUserUpdate { IsActive = false },
    };
}
