using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using System.Data.Common;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Users;
using Sanctum.Api.Health;

namespace Sanctum.Api.Agents;

/// <summary>
/// The body of POST and PATCH /api/agents (the create-agent form's fields). PATCH changes only the fields present
/// and non-null, except the two visibility lists, where an explicit null means "everyone" and absence means "unchanged".
/// </summary>
public sealed record AgentWrite
{
    /// <summary>Slug <c>^[a-z0-9][a-z0-9-]{0,49}$</c> (not master or smcp, which are tool categories); create only.</summary>
    [Text(50), Slug]
    public string? Id { get; init; }
    [Text(AgentRules.MaxName, NotBlank = true)]
    public string? Name { get; init; }
    [Text(AgentRules.MaxName)]
    public string? DisplayName { get; init; }
    [Text(AgentRules.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>Healthy, Degraded, Off or Ready (default Healthy).</summary>
    [OneOf(typeof(HealthStatus))]
    public string? Status { get; init; }
    public bool? IsActive { get; init; }
    /// <summary>A JSON array of user ids allowed to see the agent, or null for everyone.</summary>
    public JsonElement VisibleToUsers { get; init; }
    /// <summary>A JSON array of roles (admin, user, viewer) allowed to see the agent, or null for every role.</summary>
    public JsonElement VisibleToRoles { get; init; }
}

public static class AgentRules
{
    public const int MaxName = 100, MaxDescription = 1000;

    public static async Task<Errors> CheckAsync(AgentWrite body, bool create, DbConnection db, Errors errors)
    {
        if (create) errors.Required("name", body.Name);
        await UserIdsAsync(body.VisibleToUsers, db, errors);
        RoleList(body.VisibleToRoles, errors);
        return errors;
    }

    /// <summary>Whether the list was sent at all, and its JSON text (null = everyone).</summary>
    public static (bool Given, string? Json) Visibility(JsonElement list) => list.ValueKind switch
    {
        JsonValueKind.Undefined => (false, null),
        JsonValueKind.Array => (true, new JsonArray(list.EnumerateArray().Select(e => JsonNode.Parse(e.GetRawText())).DistinctBy(n => n!.ToJsonString()).ToArray()).ToJsonString()),
        _ => (true, null),
    };

    private static async Task UserIdsAsync(JsonElement list, DbConnection db, Errors errors)
    {
        if (list.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return;
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > 1000
            || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out _)))
        {
            errors.Add("visible_to_users", "Must be null (everyone) or an array of at most 1000 user ids.");
            return;
        }
        var ids = list.EnumerateArray().Select(e => e.GetInt64()).Distinct().ToArray();
        var known = await db.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM users WHERE id {Data.SqlDialect.Of(db).InList("@ids")}", new { ids });
        if (known != ids.Length) errors.Add("visible_to_users", "Every id must be the id of an existing user.");
    }

    private static void RoleList(JsonElement list, Errors errors)
    {
        if (list.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return;
        if (list.ValueKind != JsonValueKind.Array
            || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || !Roles.All.Contains(e.GetString())))
            errors.Add("visible_to_roles", $"Must be null (every role) or an array of roles: {string.Join(", ", Roles.All)}.");
    }
}
