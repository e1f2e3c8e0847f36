using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>System configuration (system_config) through the settings core: typed values, secrets encrypted and masked.</summary>
public static class ConfigApi
{
    public static RouteGroupBuilder MapConfig(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/config").WithTags("Configuration").WithRequestExamples(SettingExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListConfig")
            .WithSummary("System settings by category then key, values in their type; secrets masked (\"********\", \"\" when empty, \"unreadable\" when the key ring lost them)");
        group.MapGet("/categories", Categories).WithName("ListConfigCategories")
            .WithSummary("Each configuration category with its number of keys");
        group.MapGet("/schema", Schema).WithName("GetConfigSchema")
            .WithSummary("The catalogue of known settings: type, range, format, closed value sets, secret or not, and which component reads each (read_by)");
        group.MapGet("/{key}", Get).WithName("GetConfig")
            .WithSummary("One setting with its ETag; reveal=true returns a secret's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{key}", Put).WithName("PutConfig").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a setting (admin); the value must parse as its type and meet the catalogue; the mask keeps a secret; If-Match: a stale ETag gets 412")
            .WriteProblems();
        group.MapDelete("/{key}", Delete).WithName("DeleteConfig").RequireAdmin()
            .WithSummary("Delete a setting (admin); If-Match as for PUT").WriteProblems();
        group.MapHistory("/{key}", "Config", (http, _) => SettingAddress.System(http.Route("key")));
        return group;
    }

    private static async Task<Ok<IEnumerable<ConfigEntry>>> List(DbConnection db, SettingsCore core, string? category = null) =>
        TypedResults.Ok((await core.QueryAsync(db, SettingStore.SystemConfig, "WHERE (@category IS NULL OR t.category = @category) ORDER BY t.category, t.config_key",
            new { category })).Select(row => ConfigEntry.Of(row, core.Shown(row))));

    private static async Task<Ok<IEnumerable<ConfigCategory>>> Categories(DbConnection db) =>
        TypedResults.Ok(await Dapper.SqlMapper.QueryAsync<ConfigCategory>(db, "SELECT category, COUNT(*) AS count FROM system_config GROUP BY category ORDER BY category"));

    private static Ok<IReadOnlyList<SettingSpec>> Schema() => TypedResults.Ok(SettingCatalogue.All);

    private static async Task<Results<Ok<ConfigEntry>, ValidationProblem, ProblemHttpResult>> Get(
        string key, DbConnection db, HttpContext http, SettingsCore core, bool reveal = false) =>
        (await core.GetAsync(db, SettingAddress.System(key), http, reveal)).Read(row => ConfigEntry.Of(row, core.Shown(row, reveal)));

    private static async Task<Results<Created<ConfigEntry>, Ok<ConfigEntry>, ValidationProblem, ProblemHttpResult>> Put(
        string key, SettingWrite body, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.PutAsync(db, SettingAddress.System(key), body, http)).Written(row => ConfigEntry.Of(row, core.Shown(row)));

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(string key, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.DeleteAsync(db, SettingAddress.System(key), http)).Deleted();
}
