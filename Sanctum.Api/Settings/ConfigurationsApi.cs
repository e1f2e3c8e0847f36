using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>
/// Hierarchical configurations through the settings core: values for the whole system or for one agent, tool, tool
/// instance or user. Secrets are stored encrypted and shown masked; only an admin may reveal one.
/// </summary>
public static class ConfigurationsApi
{
    public static RouteGroupBuilder MapConfigurations(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/configurations").WithTags("Configurations").WithRequestExamples(SettingExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListConfigurations")
            .WithSummary("Configurations in hierarchy order (system, agent, tool, instance, user), then scope id and key; filter with scope and scope_id; reveal=true (admin) shows secrets");
        group.MapGet("/system/{key}", GetSystem).WithName("GetSystemConfiguration").WithSummary("One system-wide configuration with its ETag");
        group.MapPut("/system/{key}", PutSystem).WithName("PutSystemConfiguration").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a system-wide configuration; the value must parse as its type and meet the catalogue; If-Match: a stale ETag gets 412")
            .WriteProblems();
        group.MapDelete("/system/{key}", DeleteSystem).WithName("DeleteSystemConfiguration").RequireAdmin()
            .WithSummary("Remove a system-wide configuration; If-Match as for PUT").WriteProblems();
        group.MapHistory("/system/{key}", "SystemConfiguration", (http, _) => SettingAddress.Configuration(ConfigurationScopes.System, null, http.Route("key")));
        group.MapGet("/{scope}/{scopeId}/{key}", GetScoped).WithName("GetScopedConfiguration")
            .WithSummary("One configuration of an agent, tool, instance (tool instance id) or user (user id), with its ETag");
        group.MapPut("/{scope}/{scopeId}/{key}", PutScoped).WithName("PutScopedConfiguration").RequireAdmin()
            .WithSummary("Create (201) or replace (200) a configuration of an existing agent, tool, instance or user; If-Match: a stale ETag gets 412")
            .WriteProblems();
        group.MapDelete("/{scope}/{scopeId}/{key}", DeleteScoped).WithName("DeleteScopedConfiguration").RequireAdmin()
            .WithSummary("Remove a configuration of an agent, tool, instance or user; If-Match as for PUT").WriteProblems();
        group.MapHistory("/{scope}/{scopeId}/{key}", "ScopedConfiguration", Scoped);

        // A literal segment, so it wins over /api/config/{key}.
        routes.MapGet("/api/config/effective", EffectiveConfiguration.GetAsync).WithTags("Configurations").RequireReader()
            .WithName("GetEffectiveConfiguration")
            .WithSummary("The settings in force for an agent, tool and/or tool instance: per key the most specific value (system settings < system configurations < agent settings < agent < tool < instance configurations), with its scope and source store; secrets masked")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<IEnumerable<Configuration>>, ValidationProblem, ProblemHttpResult>> List(
        DbConnection db, SettingsCore core, HttpContext http,
        string? scope = null, [FromQuery(Name = "scope_id")] string? scopeId = null, bool reveal = false)
    {
        if (scope is not null && !ConfigurationScopes.All.Contains(scope))
            return Problems.Invalid("scope", $"The scope must be one of: {string.Join(", ", ConfigurationScopes.All)}.");
        if (reveal && !http.User.IsAdmin()) return SettingOutcome.RevealForbidden.Problem();
        var args = new DynamicParameters(Agents.AgentVisibility.Parameters(http.User));
        args.AddDynamicParams(new { scope, scopeId });
        var rows = await core.QueryAsync(db, SettingStore.Configurations, $"""
            WHERE (@scope IS NULL OR t.scope = @scope) AND (@scopeId IS NULL OR t.scope_id = @scopeId) AND {Agents.AgentVisibility.ConfigurationVisible}
            ORDER BY {ConfigurationScopes.Rank}, t.scope_id, t.key
            """, args);
        if (reveal) core.RecordReveal(SettingStore.Configurations, rows, http);
        return TypedResults.Ok(rows.Select(row => Configuration.Of(row, core.Shown(row, reveal))));
    }

    private static async Task<Results<Ok<Configuration>, ValidationProblem, ProblemHttpResult>> GetSystem(
        string key, DbConnection db, HttpContext http, SettingsCore core, bool reveal = false) =>
        (await core.GetAsync(db, SettingAddress.Configuration(ConfigurationScopes.System, null, key), http, reveal)).Read(row => Configuration.Of(row, core.Shown(row, reveal)));

    private static async Task<Results<Ok<Configuration>, ValidationProblem, ProblemHttpResult>> GetScoped(
        string scope, string scopeId, string key, DbConnection db, HttpContext http, SettingsCore core, bool reveal = false) =>
        (await RunAsync(http, async at => await Agents.AgentVisibility.SeesConfigurationOwnerAsync(db, http.User, at.Scope, at.ScopeId)
            ? await core.GetAsync(db, at, http, reveal)
            : SettingOutcome.NotFound(at.Store.Describe(at)))).Read(row => Configuration.Of(row, core.Shown(row, reveal)));

    private static async Task<Results<Created<Configuration>, Ok<Configuration>, ValidationProblem, ProblemHttpResult>> PutSystem(
        string key, SettingWrite body, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.PutAsync(db, SettingAddress.Configuration(ConfigurationScopes.System, null, key), body, http)).Written(row => Configuration.Of(row, core.Shown(row)));

    private static async Task<Results<Created<Configuration>, Ok<Configuration>, ValidationProblem, ProblemHttpResult>> PutScoped(
        string scope, string scopeId, string key, SettingWrite body, DbConnection db, HttpContext http, SettingsCore core) =>
        (await RunAsync(http, at => core.PutAsync(db, at, body, http))).Written(row => Configuration.Of(row, core.Shown(row)));

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteSystem(string key, DbConnection db, HttpContext http, SettingsCore core) =>
        (await core.DeleteAsync(db, SettingAddress.Configuration(ConfigurationScopes.System, null, key), http)).Deleted();

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteScoped(
        string scope, string scopeId, string key, DbConnection db, HttpContext http, SettingsCore core) =>
        (await RunAsync(http, at => core.DeleteAsync(db, at, http))).Deleted();

    /// <summary>The address of a scoped route, its scope id in stored form (instance and user ids as plain integers).</summary>
    private static SettingAddress? Scoped(HttpContext http, Errors errors)
    {
        var scope = http.Route("scope");
        var id = ConfigurationScopes.Canonical(scope, http.Route("scopeId"), errors);
        return id is null ? null : SettingAddress.Configuration(scope, id, http.Route("key"));
    }

    private static async Task<SettingOutcome> RunAsync(HttpContext http, Func<SettingAddress, Task<SettingOutcome>> run)
    {
        var errors = new Errors();
        return Scoped(http, errors) is { } at ? await run(at) : SettingOutcome.Invalid(errors);
    }
}
