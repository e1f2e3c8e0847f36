using Sanctum.Api.OpenApi;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Config;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Agents;

/// <summary>Per-agent settings (agent_configs): typed values, secrets encrypted at rest and masked in responses.</summary>
public static class AgentConfigApi
{
    public static RouteGroupBuilder MapAgentConfig(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/agents/{id}/config").WithTags("Agent configuration").RequireReader();

        group.MapGet("/", List).WithName("ListAgentConfig")
            .WithSummary("The agent's settings by key; encrypted values are masked (\"********\", or \"\" when empty)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{key}", Get).WithName("GetAgentConfig")
            .WithSummary("One setting; reveal=true returns an encrypted value's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{key}", Put).WithName("PutAgentConfig").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a setting (admin); the value must parse as its type; sending the mask back keeps a secret")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{key}", Delete).WithName("DeleteAgentConfig").RequireAdmin()
            .WithSummary("Delete a setting (admin)").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private const string Columns = "agent_id, config_key AS key, config_value AS value, config_type AS type, is_encrypted, created_at, updated_at";

    private static Results<Ok<IEnumerable<AgentConfigEntry>>, ProblemHttpResult> List(string id, SqliteConnection db, ClaimsPrincipal user, Secrets secrets)
    {
        if (!Visible(db, id, user)) return Problems.NotFound($"Agent '{id}'");
        var entries = db.Query<AgentConfigEntry>($"SELECT {Columns} FROM agent_configs WHERE agent_id = @id ORDER BY config_key", new { id });
        return TypedResults.Ok(entries.Select(e => Shown(e, reveal: false, secrets)));
    }

    private static Results<Ok<AgentConfigEntry>, ProblemHttpResult> Get(
        string id, string key, SqliteConnection db, ClaimsPrincipal user, Secrets secrets, bool reveal = false)
    {
        if (reveal && !user.IsAdmin()) return ConfigApi.RevealForbidden();
        if (!Visible(db, id, user)) return Problems.NotFound($"Agent '{id}'");
        return db.QuerySingleOrDefault<AgentConfigEntry>($"SELECT {Columns} FROM agent_configs WHERE agent_id = @id AND config_key = @key", new { id, key }) is { } entry
            ? TypedResults.Ok(Shown(entry, reveal, secrets))
            : Problems.NotFound($"Setting '{key}' of agent '{id}'");
    }

    private static Results<Created<AgentConfigEntry>, Ok<AgentConfigEntry>, ValidationProblem, ProblemHttpResult> Put(
        string id, string key, ConfigValueWrite body, SqliteConnection db, Secrets secrets, TimeProvider clock)
    {
        var errors = new Errors().CheckKey(key);
        errors.OneOf("type", body.Type, ConfigValues.Types);
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        if (!db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id }, tx)) return Problems.NotFound($"Agent '{id}'");
        var current = db.QuerySingleOrDefault<AgentConfigEntry>($"SELECT {Columns} FROM agent_configs WHERE agent_id = @id AND config_key = @key", new { id, key }, tx);
        if (current is { IsEncrypted: true } && body.IsEncrypted == false) return ConfigApi.NoDecrypting();

        var type = body.Type ?? current?.Type ?? "string";
        var encrypted = body.IsEncrypted ?? current?.IsEncrypted ?? false;
        var plaintext = ConfigKeys.Plaintext(ConfigValues.ToText(body.Value), current?.IsEncrypted ?? false, current?.Value, secrets);
        if (ConfigValues.Check(type, plaintext) is { } problem) return Problems.Invalid("value", problem);

        var saved = db.QuerySingle<AgentConfigEntry>($"""
            INSERT INTO agent_configs (agent_id, config_key, config_value, config_type, is_encrypted, created_at, updated_at)
            VALUES (@id, @key, @value, @type, @encrypted, @now, @now)
            ON CONFLICT (agent_id, config_key) DO UPDATE SET config_value = excluded.config_value, config_type = excluded.config_type,
                is_encrypted = excluded.is_encrypted, updated_at = excluded.updated_at
            RETURNING {Columns}
            """,
            new { id, key, value = ConfigKeys.Stored(plaintext, encrypted, secrets), type, encrypted, now = Timestamp.Now(clock) }, tx);
        tx.Commit();

        var shown = Shown(saved, reveal: false, secrets);
        return current is null ? TypedResults.Created($"/api/agents/{id}/config/{key}", shown) : TypedResults.Ok(shown);
    }

    private static Results<NoContent, ProblemHttpResult> Delete(string id, string key, SqliteConnection db)
    {
        if (db.Execute("DELETE FROM agent_configs WHERE agent_id = @id AND config_key = @key", new { id, key }) == 1) return TypedResults.NoContent();
        return db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id })
            ? Problems.NotFound($"Setting '{key}' of agent '{id}'")
            : Problems.NotFound($"Agent '{id}'");
    }

    /// <summary>Whether the caller may see the agent: the same rule as GET /api/agents/{id}.</summary>
    private static bool Visible(SqliteConnection db, string id, ClaimsPrincipal user) =>
        db.ExecuteScalar<bool>($"SELECT EXISTS (SELECT 1 FROM agents WHERE {AgentVisibility.ById})", AgentVisibility.Parameters(user, id));

    private static AgentConfigEntry Shown(AgentConfigEntry entry, bool reveal, Secrets secrets) =>
        entry with { Value = ConfigKeys.Shown(entry.Value, entry.IsEncrypted, reveal, secrets) };
}

/// <summary>A row of <c>agent_configs</c> as the API shows it (value masked when encrypted).</summary>
public sealed record AgentConfigEntry
{
    public required string AgentId { get; init; }
    [MaxLength(100)]
    [RegularExpression(ConfigKeys.KeyPattern)]
    public required string Key { get; init; }
    [MaxLength(ConfigValues.MaxValueLength)]
    public string? Value { get; init; }
    /// <summary>string, number, boolean or json.</summary>
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    public bool IsEncrypted { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}
