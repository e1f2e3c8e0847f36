using System.Security.Claims;
using Dapper;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Agents;

/// <summary>
/// Who may see an agent: admins see every agent; others see an active agent when both of its lists let them in
/// (visible_to_users names their id, visible_to_roles names their role; NULL lets everyone in). The one object-level
/// rule for everything that belongs to an agent (tools in its category, tool instances, configurations), to a user
/// (user-scoped configurations: the owner and admins) or to both: every query that reads such rows filters with a
/// fragment of this class and <see cref="Parameters(ClaimsPrincipal)"/>, and a hidden row reads as absent (404).
/// </summary>
public static class AgentVisibility
{
    public const string Where = """
        (@isAdmin OR (
            (visible_to_users IS NULL OR EXISTS (SELECT 1 FROM json_each(visible_to_users) WHERE CAST(value AS TEXT) = CAST(@userId AS TEXT)))
        AND (visible_to_roles IS NULL OR EXISTS (SELECT 1 FROM json_each(visible_to_roles) WHERE value = @role))))
        """;

    /// <summary>The agent @id as GET /api/agents/{id} shows it: visible to the caller, and inactive only to admins.</summary>
    public const string ById = $"id = @id AND (is_active = TRUE OR @isAdmin) AND {Where}";

    /// <summary>True when <paramref name="agentColumn"/> is null, names no agent (a category such as master), or names an agent the caller sees.</summary>
    public static string Visible(string agentColumn) => $"""
        ({agentColumn} IS NULL OR @isAdmin OR NOT EXISTS (SELECT 1 FROM agents WHERE id = {agentColumn})
         OR EXISTS (SELECT 1 FROM agents WHERE id = {agentColumn} AND is_active = TRUE AND {Where}))
        """;

    /// <summary>The ids of the agents the caller may not see (none for admins), for filtering rows already in memory.</summary>
    public const string HiddenIdsSql = $"SELECT id FROM agents WHERE NOT @isAdmin AND NOT (is_active = TRUE AND {Where})";

    /// <summary>True when the tool <paramref name="toolColumn"/> names is in a category the caller sees.</summary>
    public static string ToolVisible(string toolColumn) =>
        $"EXISTS (SELECT 1 FROM tools vt WHERE vt.id = {toolColumn} AND {Visible("vt.category")})";

    /// <summary>True when the tool instance <paramref name="instanceColumn"/> (an id) names belongs to a tool and an agent the caller sees.</summary>
    public static string InstanceVisible(string instanceColumn) =>
        $"EXISTS (SELECT 1 FROM tool_instances vi WHERE vi.id = {instanceColumn} AND {Visible("vi.agent_id")} AND {ToolVisible("vi.tool_id")})";

    /// <summary>True when a user-owned row (<paramref name="userColumn"/> holds the user's id) is the caller's own, or the caller is an admin.</summary>
    public static string OwnedBy(string userColumn) => $"(@isAdmin OR CAST({userColumn} AS TEXT) = CAST(@userId AS TEXT))";

    /// <summary>A row of configurations (scope, scope_id) the caller may read.</summary>
    public static readonly string ConfigurationVisible = $"""
        (CASE scope
            WHEN 'agent' THEN {Visible("scope_id")}
            WHEN 'tool' THEN {ToolVisible("scope_id")}
            WHEN 'instance' THEN {InstanceVisible("CAST(scope_id AS BIGINT)")}
            WHEN 'user' THEN {OwnedBy("scope_id")}
            ELSE TRUE END)
        """;

    /// <summary>Whether the caller may read configurations of this scope and scope id (the owner of a scoped configuration).</summary>
    public static Task<bool> SeesConfigurationOwnerAsync(System.Data.Common.DbConnection db, ClaimsPrincipal user, string scope, string? scopeId)
    {
        var args = new DynamicParameters(Parameters(user));
        args.AddDynamicParams(new { scope, scopeId });
        return db.ExecuteScalarAsync<bool>($"SELECT {ConfigurationVisible} FROM (SELECT @scope AS scope, @scopeId AS scope_id) AS owner", args);
    }

    /// <summary><see cref="Parameters(ClaimsPrincipal)"/> plus the agent's @id.</summary>
    public static DynamicParameters Parameters(ClaimsPrincipal user, string id)
    {
        var parameters = new DynamicParameters(Parameters(user));
        parameters.Add("id", id);
        return parameters;
    }

    /// <summary>
    /// What <see cref="Where"/> reads of the caller, as part of the key of a cached result filtered by it: admins see
    /// everything, so they share one viewer; others are their id and role.
    /// </summary>
    public readonly record struct Viewer(bool IsAdmin, long UserId, string? Role)
    {
        public object Parameters() => new { isAdmin = IsAdmin, userId = UserId, role = Role };
    }

    public static Viewer ViewerOf(ClaimsPrincipal user) =>
        user.IsAdmin() ? new Viewer(true, 0, Users.Roles.Admin) : new Viewer(false, user.UserId(), user.FindFirstValue(ClaimTypes.Role));

    public static object Parameters(ClaimsPrincipal user) => new
    {
        isAdmin = user.IsAdmin(),
        userId = user.UserId(),
        role = user.FindFirstValue(ClaimTypes.Role),
    };
}
