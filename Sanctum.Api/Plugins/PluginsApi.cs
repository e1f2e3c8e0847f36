using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Plugins;

public static class PluginsApi
{
    public const int MaxNameLength = 100;
    public const int MaxVersionLength = 50;

    public static RouteGroupBuilder MapPlugins(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tools/{id}/plugins").WithTags("Plugins").WithRequestExamples(PluginExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListPlugins").WithSummary("The tool's plugins, by name");
        group.MapGet("/{pluginId:long}", Get).WithName("GetPlugin").WithSummary("One plugin of the tool");
        group.MapPost("/", Create).WithName("CreatePlugin").RequireAdmin()
            .WithSummary("Add a plugin to the tool; its name is unique within the tool and its dependencies name other plugins of the tool, without cycles")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{pluginId:long}", Update).WithName("UpdatePlugin").RequireAdmin()
            .WithSummary("Change a plugin; absent fields stay as they are").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{pluginId:long}", Delete).WithName("DeletePlugin").RequireAdmin()
            .WithSummary("Remove a plugin; 409 while another plugin depends on it").ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private const string ToolExistsSql = "SELECT EXISTS (SELECT 1 FROM tools WHERE id = @id)";

    private static async Task<Results<Ok<IEnumerable<Plugin>>, ProblemHttpResult>> List(string id, DbConnection db) =>
        await db.ExecuteScalarAsync<bool>(ToolExistsSql, new { id })
            ? TypedResults.Ok(await db.QueryAsync<Plugin>($"{Plugin.Select} WHERE p.tool_id = @id ORDER BY p.name, p.id", new { id }))
            : Problems.NotFound($"Tool '{id}'");

    private static async Task<Results<Ok<Plugin>, ProblemHttpResult>> Get(string id, long pluginId, DbConnection db) =>
        await db.QuerySingleOrDefaultAsync<Plugin>($"{Plugin.Select} WHERE p.tool_id = @id AND p.id = @pluginId", new { id, pluginId }) is { } plugin
            ? TypedResults.Ok(plugin)
            : Problems.NotFound($"Plugin {pluginId} of tool '{id}'");

    private static async Task<Results<Created<Plugin>, ValidationProblem, ProblemHttpResult>> Create(
        string id, PluginRequest body, DbConnection db, TimeProvider clock, ClaimsPrincipal user)
    {
        var errors = CheckFields(body, creating: true);
        if (errors.Any) return Problems.Invalid(errors);
        var name = body.Name!;

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (!await db.ExecuteScalarAsync<bool>(ToolExistsSql, new { id }, tx)) return Problems.NotFound($"Tool '{id}'");
        var siblings = await LoadSiblingsAsync(db, tx, id);
        if (siblings.Any(p => p.Name == name)) return Problems.Conflict($"Tool '{id}' already has a plugin named '{name}'.");
        var dependencies = body.Dependencies ?? [];
        PluginDependencies.Check(id, name, dependencies, Graph(siblings), errors);
        if (errors.Any) return Problems.Invalid(errors);

        var now = Timestamp.Now(clock);
        var pluginId = await db.ExecuteScalarAsync<long>("""
            INSERT INTO plugins (tool_id, name, version, status, config, dependencies, is_enabled, created_by, created_at, updated_at)
            VALUES (@id, @name, @version, @status, @config, @dependencies, @isEnabled, @createdBy, @now, @now)
            RETURNING id
            """,
            new
            {
                id, name, version = EmptyToNull(body.Version), status = body.Status ?? "Inactive",
                config = body.Config?.GetRawText(), dependencies = JsonSerializer.Serialize(dependencies),
                isEnabled = body.IsEnabled ?? true, createdBy = user.UserId(), now,
            }, tx);
        var plugin = await db.QuerySingleAsync<Plugin>($"{Plugin.Select} WHERE p.id = @pluginId", new { pluginId }, tx);
        await tx.CommitAsync();
        return TypedResults.Created($"/api/tools/{id}/plugins/{pluginId}", plugin);
    }

    private static async Task<Results<Ok<Plugin>, ValidationProblem, ProblemHttpResult>> Update(
        string id, long pluginId, PluginRequest body, DbConnection db, TimeProvider clock)
    {
        var errors = CheckFields(body, creating: false);
        if (errors.Any) return Problems.Invalid(errors);

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var current = await db.QuerySingleOrDefaultAsync<Plugin>($"{Plugin.Select} WHERE p.tool_id = @id AND p.id = @pluginId", new { id, pluginId }, tx);
        if (current is null) return Problems.NotFound($"Plugin {pluginId} of tool '{id}'");
        var others = (await LoadSiblingsAsync(db, tx, id)).Where(p => p.Id != pluginId).ToList();

        var name = body.Name ?? current.Name;
        if (name != current.Name)
        {
            if (others.Any(p => p.Name == name)) return Problems.Conflict($"Tool '{id}' already has a plugin named '{name}'.");
            if (Dependents(others, current.Name) is { Count: > 0 } dependents)
                return Problems.Conflict($"Plugin '{current.Name}' cannot be renamed while {string.Join(", ", dependents.Select(d => $"'{d}'"))} depend(s) on it.");
        }
        if (body.Dependencies is not null)
        {
            PluginDependencies.Check(id, name, body.Dependencies, Graph(others), errors);
            if (errors.Any) return Problems.Invalid(errors);
        }

        await db.ExecuteAsync("""
            UPDATE plugins SET name = @name, version = @version, status = @status, config = @config,
                dependencies = @dependencies, is_enabled = @isEnabled, updated_at = @now
            WHERE id = @pluginId
            """,
            new
            {
                pluginId, name,
                version = body.Version is null ? current.Version : EmptyToNull(body.Version),
                status = body.Status ?? current.Status,
                config = body.Config is { } config ? config.GetRawText() : current.Config?.ToJsonString(),
                dependencies = body.Dependencies is { } list ? JsonSerializer.Serialize(list) : current.Dependencies?.ToJsonString() ?? "[]",
                isEnabled = body.IsEnabled ?? current.IsEnabled,
                now = Timestamp.Now(clock),
            }, tx);
        var plugin = await db.QuerySingleAsync<Plugin>($"{Plugin.Select} WHERE p.id = @pluginId", new { pluginId }, tx);
        await tx.CommitAsync();
        return TypedResults.Ok(plugin);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, long pluginId, DbConnection db)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var name = await db.QuerySingleOrDefaultAsync<string>("SELECT name FROM plugins WHERE tool_id = @id AND id = @pluginId", new { id, pluginId }, tx);
        if (name is null) return Problems.NotFound($"Plugin {pluginId} of tool '{id}'");
        var others = (await LoadSiblingsAsync(db, tx, id)).Where(p => p.Id != pluginId).ToList();
        if (Dependents(others, name) is { Count: > 0 } dependents)
            return Problems.Conflict($"Plugin '{name}' is needed by {string.Join(", ", dependents.Select(d => $"'{d}'"))}; change or remove those first.");
        await db.ExecuteAsync("DELETE FROM plugins WHERE id = @pluginId", new { pluginId }, tx);
        await tx.CommitAsync();
        return TypedResults.NoContent();
    }

    private static Errors CheckFields(PluginRequest body, bool creating)
    {
        var errors = new Errors();
        if (creating) errors.Required("name", body.Name);
        if (body.Name is not null && body.Name.Trim() != body.Name) errors.Add("name", "The name must not start or end with spaces.");
        if (body.Config is { ValueKind: not JsonValueKind.Object })
            errors.Add("config", "The config must be a JSON object.");
        return errors;
    }

    private sealed record Sibling(long Id, string Name, IReadOnlyList<string> Dependencies);

    private static async Task<List<Sibling>> LoadSiblingsAsync(DbConnection db, DbTransaction tx, string toolId) =>
        (await db.QueryAsync<(long Id, string Name, string? Dependencies)>(
                "SELECT id, name, dependencies FROM plugins WHERE tool_id = @toolId", new { toolId }, tx))
            .Select(r => new Sibling(r.Id, r.Name, PluginDependencies.Parse(r.Dependencies)))
            .ToList();

    private static Dictionary<string, IReadOnlyList<string>> Graph(IEnumerable<Sibling> plugins) =>
        plugins.ToDictionary(p => p.Name, p => p.Dependencies, StringComparer.Ordinal);

    private static List<string> Dependents(IEnumerable<Sibling> others, string name) =>
        others.Where(p => p.Dependencies.Contains(name, StringComparer.Ordinal)).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();

    private static string? EmptyToNull(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
