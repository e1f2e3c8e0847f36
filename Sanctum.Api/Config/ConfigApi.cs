using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Config;

/// <summary>System configuration (system_config): typed values, secrets encrypted at rest and masked in responses.</summary>
public static class ConfigApi
{
    public static RouteGroupBuilder MapConfig(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/config").WithTags("Configuration").RequireReader();

        group.MapGet("/", List).WithName("ListConfig")
            .WithSummary("System settings by category then key; encrypted values are masked (\"********\", or \"\" when empty)");
        group.MapGet("/categories", Categories).WithName("ListConfigCategories")
            .WithSummary("Each configuration category with its number of keys");
        group.MapGet("/{key}", Get).WithName("GetConfig")
            .WithSummary("One setting; reveal=true returns an encrypted value's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{key}", Put).WithName("PutConfig").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a setting (admin); the value must parse as its type; sending the mask back keeps a secret");
        group.MapDelete("/{key}", Delete).WithName("DeleteConfig").RequireAdmin()
            .WithSummary("Delete a setting (admin)").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    /// <summary>Literal routes under /api/config that a key of the same name could never be read back through.</summary>
    public static readonly string[] ReservedKeys = ["env", "categories", "effective"];

    private const string Columns = "config_key AS key, config_value AS value, config_type AS type, category, description, is_encrypted, updated_at";

    private static Ok<IEnumerable<ConfigEntry>> List(SqliteConnection db, Secrets secrets, string? category = null) =>
        TypedResults.Ok(db.Query<ConfigEntry>($"""
            SELECT {Columns} FROM system_config WHERE (@category IS NULL OR category = @category) ORDER BY category, config_key
            """, new { category }).Select(e => Shown(e, reveal: false, secrets)));

    private static Ok<IEnumerable<ConfigCategory>> Categories(SqliteConnection db) =>
        TypedResults.Ok(db.Query<ConfigCategory>("SELECT category, COUNT(*) AS count FROM system_config GROUP BY category ORDER BY category"));

    private static Results<Ok<ConfigEntry>, ProblemHttpResult> Get(string key, SqliteConnection db, ClaimsPrincipal user, Secrets secrets, bool reveal = false)
    {
        if (reveal && !user.IsAdmin()) return RevealForbidden();
        return db.QuerySingleOrDefault<ConfigEntry>($"SELECT {Columns} FROM system_config WHERE config_key = @key", new { key }) is { } entry
            ? TypedResults.Ok(Shown(entry, reveal, secrets))
            : Problems.NotFound($"Setting '{key}'");
    }

    private static Results<Created<ConfigEntry>, Ok<ConfigEntry>, ValidationProblem, ProblemHttpResult> Put(
        string key, SystemConfigWrite body, SqliteConnection db, Secrets secrets, TimeProvider clock)
    {
        var errors = new Errors().CheckKey(key);
        if (ReservedKeys.Contains(key)) errors.Add("key", $"'{key}' is the name of a route under /api/config, not a usable key.");
        errors.OneOf("type", body.Type, ConfigValues.Types);
        if (body.Category is not null && !ConfigKeys.IsCategory(body.Category))
            errors.Add("category", "Must be 1 to 50 letters, digits, '_' or '-'.");
        errors.Text("description", body.Description, ConfigKeys.MaxDescription);
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        var current = db.QuerySingleOrDefault<ConfigEntry>($"SELECT {Columns} FROM system_config WHERE config_key = @key", new { key }, tx);
        if (current is { IsEncrypted: true } && body.IsEncrypted == false) return NoDecrypting();

        var type = body.Type ?? current?.Type ?? "string";
        var encrypted = body.IsEncrypted ?? current?.IsEncrypted ?? false;
        var plaintext = ConfigKeys.Plaintext(ConfigValues.ToText(body.Value), current?.IsEncrypted ?? false, current?.Value, secrets);
        if (ConfigValues.Check(type, plaintext) is { } problem) return Problems.Invalid("value", problem);

        var saved = db.QuerySingle<ConfigEntry>($"""
            INSERT INTO system_config (config_key, config_value, config_type, category, description, is_encrypted, created_at, updated_at)
            VALUES (@key, @value, @type, @category, @description, @encrypted, @now, @now)
            ON CONFLICT (config_key) DO UPDATE SET config_value = excluded.config_value, config_type = excluded.config_type,
                category = excluded.category, description = excluded.description, is_encrypted = excluded.is_encrypted,
                updated_at = excluded.updated_at
            RETURNING {Columns}
            """,
            new
            {
                key, value = ConfigKeys.Stored(plaintext, encrypted, secrets), type, category = body.Category ?? current?.Category ?? "general",
                description = body.Description ?? current?.Description, encrypted, now = Timestamp.Now(clock),
            }, tx);
        tx.Commit();

        var shown = Shown(saved, reveal: false, secrets);
        return current is null ? TypedResults.Created($"/api/config/{key}", shown) : TypedResults.Ok(shown);
    }

    private static Results<NoContent, ProblemHttpResult> Delete(string key, SqliteConnection db) =>
        db.Execute("DELETE FROM system_config WHERE config_key = @key", new { key }) == 1 ? TypedResults.NoContent() : Problems.NotFound($"Setting '{key}'");

    public static ProblemHttpResult RevealForbidden() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "Only an admin may reveal a secret value.");

    /// <summary>An encrypted value stays encrypted: un-marking it would write the plaintext into the database.</summary>
    public static ValidationProblem NoDecrypting() =>
        Problems.Invalid("is_encrypted", "This value is a secret and stays encrypted; delete it and create it again to store it in plain text.");

    private static ConfigEntry Shown(ConfigEntry entry, bool reveal, Secrets secrets) =>
        entry with { Value = ConfigKeys.Shown(entry.Value, entry.IsEncrypted, reveal, secrets) };
}
