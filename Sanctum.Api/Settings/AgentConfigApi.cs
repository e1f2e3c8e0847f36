using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>Per-agent settings (agent_configs) through the settings core: typed values, secrets encrypted and masked.</summary>
public static class AgentConfigApi
{
    public static RouteGroupBuilder MapAgentConfig(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/agents/{id}/config").WithTags("Agent configuration").WithRequestExamples(SettingExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListAgentConfig")
            .WithSummary("The agent's settings by key, values in their type; secrets masked (\"********\", \"\" when empty, \"unreadable\" when the key ring lost them)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{key}", Get).WithName("GetAgentConfig")
            .WithSummary("One setting with its ETag; reveal=true returns a secret's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{key}", Put).WithName("PutAgentConfig").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a setting (admin); the value must parse as its type and meet the catalogue; *_key, *_token, *_secret, *_password are always secret; If-Match: a stale ETag gets 412")
            .WriteProblems();
        group.MapDelete("/{key}", Delete).WithName("DeleteAgentConfig").RequireAdmin()
            .WithSummary("Delete a setting (admin); If-Match as for PUT").WriteProblems();
        group.MapHistory("/{key}", "AgentConfig", (http, _) => SettingAddress.Agent(http.Route("id"), http.Route("key")));
        return group;
    }

    private static async Task<Results<Ok<IEnumerable<AgentConfigEntry>>, ProblemHttpResult>> List(string id, DbConnection db, ClaimsPrincipal user, SettingsCore core)
    {
        if (!await VisibleAsync(db, id, user)) return Problems.NotFound($"Agent '{id}'");
        var rows = await core.QueryAsync(db, SettingStore.AgentConfigs, "WHERE t.agent_id = @id ORDER BY t.config_key", new { id });
        return TypedResults.Ok(rows.Select(row => AgentConfigEntry.Of(row, core.Shown(row))));
    }

    private static async Task<Results<Ok<AgentConfigEntry>, ValidationProblem, ProblemHttpResult>> Get(
        string id, string key, DbConnection db, HttpContext http, SettingsCore core, bool reveal = false)
    {
        if (!await VisibleAsync(db, id, http.User)) return Problems.NotFound($"Agent '{id}'");
        return (await core.GetAsync(db, SettingAddress.Agent(id, key), http, reveal)).Read(row => AgentConfigEntry.Of(row, core.Shown(row, reveal)));
    }

    private static async Task<Results<Created<AgentConfigEntry>, Ok<AgentConfigEntry>, ValidationProblem, ProblemHttpResult>> Put(
        string id, string key, SettingWrite body, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.PutAsync(db, SettingAddress.Agent(id, key), body, http)).Written(row => AgentConfigEntry.Of(row, core.Shown(row)));

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(string id, string key, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.DeleteAsync(db, SettingAddress.Agent(id, key), http)).Deleted();

    /// <summary>Whether the caller may see the agent: the same rule as GET /api/agents/{id}.</summary>
    private static async Task<bool> VisibleAsync(DbConnection db, string id, ClaimsPrincipal user) =>
        await db.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM agents WHERE {AgentVisibility.ById})", AgentVisibility.Parameters(user, id));
}

/// <summary>A row of <c>agent_configs</c> as the API shows it: the value in its type, a secret's masked.</summary>
public sealed record AgentConfigEntry
{
    public required string AgentId { get; init; }
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    public JsonNode? Value { get; init; }
    /// <summary>string, number, boolean or json.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    public bool IsEncrypted { get; init; }
    /// <summary>The latest recorded change (0 before any), as in the ETag.</summary>
    public long Version { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }

    public static AgentConfigEntry Of(StoredSetting row, JsonNode? value) => new()
    {
        AgentId = row.ScopeId!, Key = row.Key, Value = value, Type = row.Type, IsEncrypted = row.IsEncrypted, Version = row.Version,
        CreatedAt = row.CreatedAt, UpdatedAt = row.UpdatedAt,
    };
}
