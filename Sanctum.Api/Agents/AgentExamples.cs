using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Agents;

/// <summary>The agent request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class AgentExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(AgentWrite)] = new AgentWrite
        {
            Id = "athena", Name = "Athena", DisplayName = "Athena", Description = "Research agent", Status = "Healthy", IsActive = true,
            VisibleToUsers = RequestExamples.Json(null!), VisibleToRoles = RequestExamples.Json(new[] { "admin", "user" }),
        },
    };
}
