using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>Environment variables (env_vars) for the Sanctum processes, through the settings core; secret ones encrypted and masked.</summary>
public static class EnvVarsApi
{
    public static RouteGroupBuilder MapEnvVars(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/config/env").WithTags("Environment variables").WithRequestExamples(SettingExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListEnvVars")
            .WithSummary("Environment variables by name; secrets masked (\"********\", \"\" when empty, \"unreadable\" when the key ring lost them)");
        group.MapGet("/{name}", Get).WithName("GetEnvVar")
            .WithSummary("One variable with its ETag; reveal=true returns a secret's plaintext (admin only, else 403)")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{name}", Put).WithName("PutEnvVar").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a variable (admin); names match ^[A-Za-z_][A-Za-z0-9_]*$; *_KEY, *_TOKEN, *_SECRET, *_PASSWORD are always secret; If-Match: a stale ETag gets 412")
            .WriteProblems();
        group.MapDelete("/{name}", Delete).WithName("DeleteEnvVar").RequireAdmin()
            .WithSummary("Delete a variable (admin); If-Match as for PUT").WriteProblems();
        group.MapHistory("/{name}", "EnvVar", (http, _) => SettingAddress.Env(http.Route("name")));
        return group;
    }

    private static async Task<Ok<IEnumerable<EnvVar>>> List(DbConnection db, SettingsCore core) =>
        TypedResults.Ok((await core.QueryAsync(db, SettingStore.EnvVars, "ORDER BY t.var_name")).Select(row => EnvVar.Of(row, core.Shown(row))));

    private static async Task<Results<Ok<EnvVar>, ValidationProblem, ProblemHttpResult>> Get(
        string name, DbConnection db, HttpContext http, SettingsCore core, bool reveal = false) =>
        (await core.GetAsync(db, SettingAddress.Env(name), http, reveal)).Read(row => EnvVar.Of(row, core.Shown(row, reveal)));

    private static async Task<Results<Created<EnvVar>, Ok<EnvVar>, ValidationProblem, ProblemHttpResult>> Put(
        string name, SettingWrite body, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.PutAsync(db, SettingAddress.Env(name), body, http)).Written(row => EnvVar.Of(row, core.Shown(row)));

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(string name, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.DeleteAsync(db, SettingAddress.Env(name), http)).Deleted();
}
