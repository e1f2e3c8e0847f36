using System.Security.Claims;
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

    public static object Parameters(ClaimsPrincipal user) => new
    {
        isAdmin = user.IsAdmin(),
        userId = user.UserId(),
        role = user.FindFirstValue(ClaimTypes.Role),
    };
}
