using System.Globalization;
using Dapper;
using System.Data.Common;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>
/// The scopes of the configurations table, from least to most specific (user stands apart), and what their ids name:
/// an agent, a tool, a tool instance (tool_instances.id) or a user (users.id).
/// </summary>
public static class ConfigurationScopes
{
    public const string System = "system";
    public static readonly string[] All = ["system", "agent", "tool", "instance", "user"];
    public static readonly string[] WithId = ["agent", "tool", "instance", "user"];

    /// <summary>ORDER BY expression putting scopes in hierarchy order (system, agent, tool, instance, then user).</summary>
    public const string Rank = "CASE scope WHEN 'system' THEN 0 WHEN 'agent' THEN 1 WHEN 'tool' THEN 2 WHEN 'instance' THEN 3 ELSE 4 END";

    /// <summary>
    /// The scope id in its stored form (instance and user ids as plain integers), or null with the reason in
    /// <paramref name="errors"/>.
    /// </summary>
    public static string? Canonical(string scope, string scopeId, Errors errors)
    {
        if (scope == System)
        {
            errors.Add("scope", "System configurations have no scope id: use /api/configurations/system/{key}.");
            return null;
        }
        if (!WithId.Contains(scope))
        {
            errors.Add("scope", $"The scope must be one of: {string.Join(", ", All)}.");
            return null;
        }
        if (scope is "instance" or "user")
        {
            if (long.TryParse(scopeId, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
                return number.ToString(CultureInfo.InvariantCulture);
            errors.Add("scope_id", scope == "instance" ? "An instance scope id is a tool instance id (a positive integer)." : "A user scope id is a user id (a positive integer).");
            return null;
        }
        if (scopeId.Length is 0 or > 100)
        {
            errors.Add("scope_id", "The scope id must be 1 to 100 characters.");
            return null;
        }
        return scopeId;
    }

    /// <summary>Whether the agent, tool, instance or user named by a canonical scope id exists.</summary>
    public static Task<bool> ExistsAsync(DbConnection db, string scope, string scopeId, DbTransaction? tx = null) =>
        db.ExecuteScalarAsync<bool>(ExistsSql(scope, "@id"), new { id = OwnerId(scope, scopeId) }, tx);

    /// <summary>The query of <see cref="ExistsAsync"/>, with the owner's id (<see cref="OwnerId"/>) in <paramref name="parameter"/>.</summary>
    public static string ExistsSql(string scope, string parameter) => scope switch
    {
        "agent" => $"SELECT EXISTS (SELECT 1 FROM agents WHERE id = {parameter})",
        "tool" => $"SELECT EXISTS (SELECT 1 FROM tools WHERE id = {parameter})",
        "instance" => $"SELECT EXISTS (SELECT 1 FROM tool_instances WHERE id = {parameter})",
        "user" => $"SELECT EXISTS (SELECT 1 FROM users WHERE id = {parameter})",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, null),
    };

    /// <summary>A canonical scope id as its table's key: a number for instances and users.</summary>
    public static object OwnerId(string scope, string scopeId) =>
        scope is "instance" or "user" ? long.Parse(scopeId, CultureInfo.InvariantCulture) : scopeId;

    /// <summary>How a 404 names a missing scope owner.</summary>
    public static string Describe(string scope, string scopeId) => scope switch
    {
        "agent" => $"Agent '{scopeId}'",
        "tool" => $"Tool '{scopeId}'",
        "instance" => $"Tool instance {scopeId}",
        _ => $"User {scopeId}",
    };
}
