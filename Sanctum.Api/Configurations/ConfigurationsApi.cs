using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Config;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Configurations;

/// <summary>
/// Hierarchical configurations: values for the whole system or for one agent, tool, tool instance or user.
/// Encrypted values are stored encrypted and shown masked; only an admin may reveal one.
/// </summary>
public static class ConfigurationsApi
{
    public const int MaxDescriptionLength = 1000;

    public static RouteGroupBuilder MapConfigurations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/configurations").WithTags("Configurations").RequireReader();

        group.MapGet("/", List).WithName("ListConfigurations")
            .WithSummary("Configurations in hierarchy order (system, agent, tool, instance, user), then scope id and key; filter with scope and scope_id; reveal=true (admin) shows encrypted values");
        group.MapGet("/system/{key}", GetSystem).WithName("GetSystemConfiguration").WithSummary("One system-wide configuration");
        group.MapPut("/system/{key}", PutSystem).WithName("PutSystemConfiguration").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a system-wide configuration; the value must parse as its type");
        group.MapDelete("/system/{key}", DeleteSystem).WithName("DeleteSystemConfiguration").RequireAdmin()
            .WithSummary("Remove a system-wide configuration");
        group.MapGet("/{scope}/{scopeId}/{key}", GetScoped).WithName("GetScopedConfiguration")
            .WithSummary("One configuration of an agent, tool, instance (tool instance id) or user (user id)");
        group.MapPut("/{scope}/{scopeId}/{key}", PutScoped).WithName("PutScopedConfiguration").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a configuration of an existing agent, tool, instance or user");
        group.MapDelete("/{scope}/{scopeId}/{key}", DeleteScoped).WithName("DeleteScopedConfiguration").RequireAdmin()
            .WithSummary("Remove a configuration of an agent, tool, instance or user");

        // A literal segment, so it wins over /api/config/{key}.
        routes.MapGet("/api/config/effective", EffectiveConfiguration.Get).WithTags("Configurations").RequireReader()
            .WithName("GetEffectiveConfiguration")
            .WithSummary("The configuration in force for an agent, tool and/or tool instance: per key the most specific value (system < agent < tool < instance) and where it came from; secrets masked");
        return group;
    }

    private const string Where = "scope = @scope AND scope_id IS @scopeId AND key = @key";

    private static Results<Ok<IEnumerable<Configuration>>, ValidationProblem, ProblemHttpResult> List(
        SqliteConnection db, Secrets secrets, ClaimsPrincipal user,
        string? scope = null, [FromQuery(Name = "scope_id")] string? scopeId = null, bool reveal = false)
    {
        if (scope is not null && !ConfigurationScopes.All.Contains(scope))
            return Problems.Invalid("scope", $"The scope must be one of: {string.Join(", ", ConfigurationScopes.All)}.");
        if (reveal && !user.IsAdmin()) return ConfigApi.RevealForbidden();
        var args = new DynamicParameters(Agents.AgentVisibility.Parameters(user));
        args.AddDynamicParams(new { scope, scopeId });
        var rows = db.Query<Configuration>($"""
            SELECT {Configuration.Columns} FROM configurations
            WHERE (@scope IS NULL OR scope = @scope) AND (@scopeId IS NULL OR scope_id = @scopeId) AND {Agents.AgentVisibility.ConfigurationVisible}
            ORDER BY {ConfigurationScopes.Rank}, scope_id, key
            """, args);
        return TypedResults.Ok(rows.Select(r => Present(r, secrets, reveal)));
    }

    private static Results<Ok<Configuration>, ValidationProblem, ProblemHttpResult> GetSystem(string key, SqliteConnection db, Secrets secrets, ClaimsPrincipal user, bool reveal = false) =>
        Find(db, secrets, user, ConfigurationScopes.System, null, key, reveal);

    private static Results<Ok<Configuration>, ValidationProblem, ProblemHttpResult> GetScoped(
        string scope, string scopeId, string key, SqliteConnection db, Secrets secrets, ClaimsPrincipal user, bool reveal = false)
    {
        var errors = new Errors();
        var id = ConfigurationScopes.Canonical(scope, scopeId, errors);
        if (errors.Any) return Problems.Invalid(errors);
        return Find(db, secrets, user, scope, id, key, reveal);
    }

    private static Results<Ok<Configuration>, ValidationProblem, ProblemHttpResult> Find(
        SqliteConnection db, Secrets secrets, ClaimsPrincipal user, string scope, string? scopeId, string key, bool reveal)
    {
        if (!ConfigurationScopes.IsValidKey(key)) return InvalidKey();
        if (reveal && !user.IsAdmin()) return ConfigApi.RevealForbidden();
        var args = new DynamicParameters(Agents.AgentVisibility.Parameters(user));
        args.AddDynamicParams(new { scope, scopeId, key });
        return db.QuerySingleOrDefault<Configuration>(
                $"SELECT {Configuration.Columns} FROM configurations WHERE {Where} AND {Agents.AgentVisibility.ConfigurationVisible}", args) is { } row
            ? TypedResults.Ok(Present(row, secrets, reveal))
            : Problems.NotFound($"Configuration '{key}' ({Owner(scope, scopeId)})");
    }

    private static Results<Created<Configuration>, Ok<Configuration>, ValidationProblem, ProblemHttpResult> PutSystem(
        string key, ConfigurationRequest body, SqliteConnection db, Secrets secrets, TimeProvider clock, ClaimsPrincipal user) =>
        Write(ConfigurationScopes.System, null, key, body, new Errors(), db, secrets, clock, user);

    private static Results<Created<Configuration>, Ok<Configuration>, ValidationProblem, ProblemHttpResult> PutScoped(
        string scope, string scopeId, string key, ConfigurationRequest body, SqliteConnection db, Secrets secrets, TimeProvider clock, ClaimsPrincipal user)
    {
        var errors = new Errors();
        var id = ConfigurationScopes.Canonical(scope, scopeId, errors);
        return Write(scope, id, key, body, errors, db, secrets, clock, user);
    }

    private static Results<Created<Configuration>, Ok<Configuration>, ValidationProblem, ProblemHttpResult> Write(
        string scope, string? scopeId, string key, ConfigurationRequest body, Errors errors,
        SqliteConnection db, Secrets secrets, TimeProvider clock, ClaimsPrincipal user)
    {
        if (!ConfigurationScopes.IsValidKey(key)) errors.Add("key", KeyRule);
        if (body.Value is null) errors.Add("value", "A value is required.");
        if (body.Type is not null && !ConfigValues.Types.Contains(body.Type))
            errors.Add("type", $"The type must be one of: {string.Join(", ", ConfigValues.Types)}.");
        if (body.Description is { Length: > MaxDescriptionLength })
            errors.Add("description", $"The description must be at most {MaxDescriptionLength} characters.");
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        if (scopeId is not null && !ConfigurationScopes.Exists(db, scope, scopeId, tx))
            return Problems.NotFound(ConfigurationScopes.Describe(scope, scopeId));
        var existing = db.QuerySingleOrDefault<Configuration>($"SELECT {Configuration.Columns} FROM configurations WHERE {Where}",
            new { scope, scopeId, key }, tx);

        if (existing is { IsEncrypted: true } && body.IsEncrypted == false) return ConfigApi.NoDecrypting();

        var type = body.Type ?? existing?.Type ?? Infer(body.Value!.Value);
        var text = ConfigKeys.Plaintext(ConfigValues.ToText(body.Value), existing?.IsEncrypted ?? false, existing?.Value, secrets);
        if (ConfigValues.Check(type, text) is { } problem) return Problems.Invalid("value", problem);
        var encrypted = body.IsEncrypted ?? existing?.IsEncrypted ?? false;

        var args = new
        {
            scope, scopeId, key, type,
            value = ConfigKeys.Stored(text, encrypted, secrets),
            description = body.Description is null ? existing?.Description : body.Description.Length == 0 ? null : body.Description,
            encrypted,
            createdBy = user.UserId(),
            now = Timestamp.Now(clock),
        };
        var row = existing is null
            ? db.QuerySingle<Configuration>($"""
                INSERT INTO configurations (key, value, type, scope, scope_id, description, is_encrypted, created_by, created_at, updated_at)
                VALUES (@key, @value, @type, @scope, @scopeId, @description, @encrypted, @createdBy, @now, @now)
                RETURNING {Configuration.Columns}
                """, args, tx)
            : db.QuerySingle<Configuration>($"""
                UPDATE configurations SET value = @value, type = @type, description = @description, is_encrypted = @encrypted, updated_at = @now
                WHERE {Where}
                RETURNING {Configuration.Columns}
                """, args, tx);
        tx.Commit();

        var shown = Present(row, secrets, reveal: false);
        return existing is null ? TypedResults.Created(Location(scope, scopeId, key), shown) : TypedResults.Ok(shown);
    }

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> DeleteSystem(string key, SqliteConnection db) =>
        Delete(db, ConfigurationScopes.System, null, key);

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> DeleteScoped(string scope, string scopeId, string key, SqliteConnection db)
    {
        var errors = new Errors();
        var id = ConfigurationScopes.Canonical(scope, scopeId, errors);
        if (errors.Any) return Problems.Invalid(errors);
        return Delete(db, scope, id, key);
    }

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> Delete(SqliteConnection db, string scope, string? scopeId, string key) =>
        !ConfigurationScopes.IsValidKey(key) ? InvalidKey()
        : db.Execute($"DELETE FROM configurations WHERE {Where}", new { scope, scopeId, key }) == 1
            ? TypedResults.NoContent()
            : Problems.NotFound($"Configuration '{key}' ({Owner(scope, scopeId)})");

    /// <summary>The type a value implies when the request names none and nothing is stored yet.</summary>
    private static string Infer(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Object or JsonValueKind.Array => "json",
        _ => "string",
    };

    public static Configuration Present(Configuration row, Secrets secrets, bool reveal) =>
        row with { Value = ConfigKeys.Shown(row.Value, row.IsEncrypted, reveal, secrets) };

    private static readonly string KeyRule = $"The key must be 1 to {ConfigurationScopes.MaxKeyLength} letters, digits, '_', '.' or '-'.";

    private static ValidationProblem InvalidKey() => Problems.Invalid("key", KeyRule);

    private static string Owner(string scope, string? scopeId) => scopeId is null ? scope : $"{scope} {scopeId}";

    private static string Location(string scope, string? scopeId, string key) => scopeId is null
        ? $"/api/configurations/system/{Uri.EscapeDataString(key)}"
        : $"/api/configurations/{scope}/{Uri.EscapeDataString(scopeId)}/{Uri.EscapeDataString(key)}";
}
