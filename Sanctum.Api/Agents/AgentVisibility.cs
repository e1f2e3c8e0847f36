using System.Security.Claims;
using Dapper;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Agents;

/// <summary>
/// Who may see an agent: admins see every agent; others see an agent when both of its lists let them in
/// (visible_to_users names their id, visible_to_roles names their role; NULL lets everyone in).
/// </summary>
public static class AgentVisibility
{
    public const string Where = """
        (@isAdmin = 1 OR (
            (visible_to_users IS NULL OR EXISTS (SELECT 1 FROM json_each(visible_to_users) WHERE value = @userId))
        AND (visible_to_roles IS NULL OR EXISTS (SELECT 1 FROM json_each(visible_to_roles) WHERE value = @role))))
        """;

    /// <summary>The agent @id as GET /api/agents/{id} shows it: visible to the caller, and inactive only to admins.</summary>
    public const string ById = $"id = @id AND (is_active = 1 OR @isAdmin = 1) AND {Where}";

    /// <summary><see cref="Parameters(ClaimsPrincipal)"/> plus the agent's @id.</summary>
    public static DynamicParameters Parameters(ClaimsPrincipal user, string id)
    {
        var parameters = new DynamicParameters(Parameters(user));
        parameters.Add("id", id);
        return parameters;
    }

    public static object Parameters(ClaimsPrincipal user) => new
    {
        isAdmin = user.IsAdmin(),
        userId = user.UserId(),
        role = user.FindFirstValue(ClaimTypes.Role),
    };
}
