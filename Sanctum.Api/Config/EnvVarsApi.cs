using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Config;

/// <summary>Environment variables (env_vars) for the Sanctum processes; secret ones encrypted at rest and masked.</summary>
public static class EnvVarsApi
{
    public static RouteGroupBuilder MapEnvVars(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/config/env").WithTags("Environment variables").RequireReader();

        group.MapGet("/", List).WithName("ListEnvVars")
            .WithSummary("Environment variables by name; encrypted values are masked (\"********\", or \"\" when empty)");
        group.MapGet("/{name}", Get).WithName("GetEnvVar")
            .WithSummary("One variable; reveal=true returns an encrypted value's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{name}", Put).WithName("PutEnvVar").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a variable (admin); names match ^[A-Za-z_][A-Za-z0-9_]*$");
        group.MapDelete("/{name}", Delete).WithName("DeleteEnvVar").RequireAdmin()
            .WithSummary("Delete a variable (admin)").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private const string Columns = "var_name AS name, var_value AS value, is_encrypted, description, updated_at";

    private static Ok<IEnumerable<EnvVar>> List(SqliteConnection db, Secrets secrets) =>
        TypedResults.Ok(db.Query<EnvVar>($"SELECT {Columns} FROM env_vars ORDER BY var_name").Select(v => Shown(v, reveal: false, secrets)));

    private static Results<Ok<EnvVar>, ProblemHttpResult> Get(string name, SqliteConnection db, ClaimsPrincipal user, Secrets secrets, bool reveal = false)
    {
        if (reveal && !user.IsAdmin()) return ConfigApi.RevealForbidden();
        return db.QuerySingleOrDefault<EnvVar>($"SELECT {Columns} FROM env_vars WHERE var_name = @name", new { name }) is { } variable
            ? TypedResults.Ok(Shown(variable, reveal, secrets))
            : Problems.NotFound($"Environment variable '{name}'");
    }

    private static Results<Created<EnvVar>, Ok<EnvVar>, ValidationProblem, ProblemHttpResult> Put(
        string name, EnvVarWrite body, SqliteConnection db, Secrets secrets, TimeProvider clock)
    {
        var errors = new Errors();
        if (!ConfigKeys.IsEnvName(name))
            errors.Add("name", $"Must match {ConfigKeys.EnvNamePattern} (letters, digits and '_', not starting with a digit), at most {ConfigKeys.MaxEnvName} characters.");
        errors.Text("description", body.Description, ConfigKeys.MaxDescription);
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        var current = db.QuerySingleOrDefault<EnvVar>($"SELECT {Columns} FROM env_vars WHERE var_name = @name", new { name }, tx);
        if (current is { IsEncrypted: true } && body.IsEncrypted == false) return ConfigApi.NoDecrypting();

        var encrypted = body.IsEncrypted ?? current?.IsEncrypted ?? false;
        var plaintext = ConfigKeys.Plaintext(ConfigValues.ToText(body.Value), current?.IsEncrypted ?? false, current?.Value, secrets);
        if (ConfigValues.Check("string", plaintext) is { } problem) return Problems.Invalid("value", problem);

        var saved = db.QuerySingle<EnvVar>($"""
            INSERT INTO env_vars (var_name, var_value, is_encrypted, description, created_at, updated_at)
            VALUES (@name, @value, @encrypted, @description, @now, @now)
            ON CONFLICT (var_name) DO UPDATE SET var_value = excluded.var_value, is_encrypted = excluded.is_encrypted,
                description = excluded.description, updated_at = excluded.updated_at
            RETURNING {Columns}
            """,
            new
            {
                name, value = ConfigKeys.Stored(plaintext, encrypted, secrets), encrypted,
                description = body.Description ?? current?.Description, now = Timestamp.Now(clock),
            }, tx);
        tx.Commit();

        var shown = Shown(saved, reveal: false, secrets);
        return current is null ? TypedResults.Created($"/api/config/env/{name}", shown) : TypedResults.Ok(shown);
    }

    private static Results<NoContent, ProblemHttpResult> Delete(string name, SqliteConnection db) =>
        db.Execute("DELETE FROM env_vars WHERE var_name = @name", new { name }) == 1 ? TypedResults.NoContent() : Problems.NotFound($"Environment variable '{name}'");

    private static EnvVar Shown(EnvVar variable, bool reveal, Secrets secrets) =>
        variable with { Value = ConfigKeys.Shown(variable.Value, variable.IsEncrypted, reveal, secrets) };
}
