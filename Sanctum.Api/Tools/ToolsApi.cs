using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;
using Sanctum.Api.Health;

namespace Sanctum.Api.Tools;

public static class ToolsApi
{
    public static RouteGroupBuilder MapTools(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tools").WithTags("Tools").WithRequestExamples(ToolExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListTools")
            .WithSummary("Tools, ordered by category then name; filter with category and enabled");
        group.MapGet("/categories", Categories).WithName("ListToolCategories")
            .WithSummary("Each category with its number of tools (the settings grid's tabs)");
        group.MapGet("/{id}", Get).WithName("GetTool").WithSummary("One tool");
        group.MapPost("/", Create).WithName("CreateTool").RequireAdmin()
            .WithSummary("Add a tool (admin); category is master, smcp or an existing agent id")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{id}", Replace).WithName("ReplaceTool").RequireAdmin()
            .WithSummary("Replace a tool's fields (admin); absent optional fields get their defaults; the id cannot change")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{id}", Patch).WithName("UpdateTool").RequireAdmin()
            .WithSummary("Change the fields present (admin); null or absent fields stay as they are")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id}", Delete).WithName("DeleteTool").RequireAdmin()
            .WithSummary("Delete a tool (admin) with the configurations scoped to it; 409 while it still has instances or plugins")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static ValueTask<JsonBody<IEnumerable<Tool>>> List(DbConnection db, ResultCache cache, IOptions<JsonOptions> json, ClaimsPrincipal user,
        string? category = null, bool? enabled = null) =>
        cache.GetAsync(new ToolsAnswer(AgentVisibility.ViewerOf(user), category, enabled), async key =>
        {
            // Every tool, cached on its own; the categories of agents the caller may not see are left out here.
            var hidden = (await db.QueryAsync<string>(AgentVisibility.HiddenIdsSql, key.Viewer.Parameters())).ToHashSet(StringComparer.Ordinal);
            var tools = await cache.GetAsync(AllTools.Key, async _ => (await db.QueryAsync<Tool>($"SELECT {Tool.Columns} FROM tools ORDER BY category, name, id")).AsList());
            return new JsonBody<IEnumerable<Tool>>(
                tools.Where(t => (category is null || t.Category == category) && (enabled is null || t.IsEnabled == enabled) && !hidden.Contains(t.Category)),
                json.Value.SerializerOptions);
        });

    /// <summary>Cache key: the list as one viewer asked for it.</summary>
    private sealed record ToolsAnswer(AgentVisibility.Viewer Viewer, string? Category, bool? Enabled);

    /// <summary>Cache key: every tool in its order (category, name, id).</summary>
    private sealed record AllTools { public static readonly AllTools Key = new(); }

    private static async Task<Ok<IEnumerable<ToolCategory>>> Categories(DbConnection db, ClaimsPrincipal user) =>
        TypedResults.Ok(await db.QueryAsync<ToolCategory>(
            $"SELECT category, COUNT(*) AS count FROM tools WHERE {AgentVisibility.Visible("category")} GROUP BY category ORDER BY category",
            AgentVisibility.Parameters(user)));

    private static async Task<Results<Ok<Tool>, ProblemHttpResult>> Get(string id, DbConnection db, ClaimsPrincipal user) =>
        await db.QuerySingleOrDefaultAsync<Tool>($"SELECT {Tool.Columns} FROM tools WHERE id = @id AND {AgentVisibility.Visible("category")}",
            AgentVisibility.Parameters(user, id)) is { } tool
            ? TypedResults.Ok(tool)
            : Problems.NotFound($"Tool '{id}'");

    private const string InsertSql = $"""
        INSERT INTO tools (id, name, description, emoji, category, status, status_since, route_path, is_enabled, module_scope, config_schema, created_by, created_at, updated_at)
        VALUES (@id, @name, @description, @emoji, @category, @status, @now, @routePath, @isEnabled, @moduleScope, @configSchema, @createdBy, @now, @now)
        RETURNING {Tool.Columns}
        """;

    private static async Task<Results<Created<Tool>, ValidationProblem, ProblemHttpResult>> Create(
        ToolWrite body, DbConnection db, ClaimsPrincipal user, TimeProvider clock)
    {
        var errors = new Errors().Required("id", body.Id);
        if ((await ToolRules.CheckAsync(body, whole: true, db, errors)).Any) return Problems.Invalid(errors);
        if (await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM tools WHERE id = @id)", new { id = body.Id }))
            return Problems.Conflict($"A tool with id '{body.Id}' already exists.");

        var tool = await db.QuerySingleAsync<Tool>(InsertSql, new
        {
            id = body.Id, name = body.Name, description = body.Description, emoji = body.Emoji, category = body.Category,
            status = body.Status ?? "Healthy", routePath = body.RoutePath, isEnabled = body.IsEnabled ?? true,
            moduleScope = body.ModuleScope ?? "global", configSchema = ToolRules.SchemaText(body.ConfigSchema),
            createdBy = user.UserId(), now = Timestamp.Now(clock),
        });
        return TypedResults.Created($"/api/tools/{tool.Id}", tool);
    }

    private const string ReplaceSql = $"""
        UPDATE tools SET name = @name, description = @description, emoji = @emoji, category = @category,
            route_path = @routePath, is_enabled = @isEnabled, module_scope = @moduleScope, config_schema = @configSchema, updated_at = @now
        WHERE id = @id
        RETURNING {Tool.Columns}
        """;

    private const string PatchSql = $"""
        UPDATE tools SET name = coalesce(@name, name), description = coalesce(@description, description), emoji = coalesce(@emoji, emoji),
            category = coalesce(@category, category), route_path = coalesce(@routePath, route_path),
            is_enabled = coalesce(@isEnabled, is_enabled), module_scope = coalesce(@moduleScope, module_scope),
            config_schema = coalesce(@configSchema, config_schema), updated_at = @now
        WHERE id = @id
        RETURNING {Tool.Columns}
        """;

    private static async Task<Results<Ok<Tool>, ValidationProblem, ProblemHttpResult>> Replace(
        string id, ToolWrite body, DbConnection db, TimeProvider clock, StatusWriter status, HttpContext http)
    {
        var errors = new Errors();
        if (body.Id is not null && body.Id != id) errors.Add("id", "The id cannot change: leave it out or send the id of the address.");
        if ((await ToolRules.CheckAsync(body, whole: true, db, errors)).Any) return Problems.Invalid(errors);
        return await Save(id, ReplaceSql, body with
        {
            Status = body.Status ?? "Healthy", IsEnabled = body.IsEnabled ?? true, ModuleScope = body.ModuleScope ?? "global",
        }, db, clock, status, http);
    }

    private static async Task<Results<Ok<Tool>, ValidationProblem, ProblemHttpResult>> Patch(
        string id, ToolWrite body, DbConnection db, TimeProvider clock, StatusWriter status, HttpContext http)
    {
        var errors = new Errors();
        if (body.Id is not null && body.Id != id) errors.Add("id", "The id cannot change: leave it out or send the id of the address.");
        if ((await ToolRules.CheckAsync(body, whole: false, db, errors)).Any) return Problems.Invalid(errors);
        return await Save(id, PatchSql, body, db, clock, status, http);
    }

    private static async Task<Results<Ok<Tool>, ValidationProblem, ProblemHttpResult>> Save(
        string id, string sql, ToolWrite body, DbConnection db, TimeProvider clock, StatusWriter status, HttpContext http)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        // Turning a tool agent-scoped must not leave an agent with two instances of it.
        if (body.ModuleScope == "agent" && await db.ExecuteScalarAsync<bool>(ToolInstancesApi.DuplicateAgentInstancesSql, new { id }, tx))
            return Problems.Conflict($"Tool '{id}' has several instances for one agent, so it cannot become agent-scoped.");

        var tool = await db.QuerySingleOrDefaultAsync<Tool>(sql, new
        {
            id, name = body.Name, description = body.Description, emoji = body.Emoji, category = body.Category,
            routePath = body.RoutePath, isEnabled = body.IsEnabled, moduleScope = body.ModuleScope,
            configSchema = ToolRules.SchemaText(body.ConfigSchema), now = Timestamp.Now(clock),
        }, tx);
        if (tool is null) return Problems.NotFound($"Tool '{id}'");
        if (body.Status is not null && await status.SetAsync(db, tx, StatusWriter.Tool, id, new StatusUpdate(body.Status, "manual", null), http) is { } set)
            tool = tool with { Status = set.Status, StatusSource = set.StatusSource, StatusReason = set.StatusReason, StatusSince = set.StatusSince };
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.Ok(tool);
    }

    /// <summary>Deletes the tool and the configurations scoped to it (each recorded in the settings history).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, DbConnection db, SettingsCore settings, HttpContext http)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var found = await db.QuerySingleOrDefaultAsync<DeleteCheck>("""
            SELECT EXISTS (SELECT 1 FROM tool_instances WHERE tool_id = t.id) AS has_instances,
                   EXISTS (SELECT 1 FROM plugins WHERE tool_id = t.id) AS has_plugins
            FROM tools t WHERE t.id = @id
            """, new { id }, tx);
        if (found is null) return Problems.NotFound($"Tool '{id}'");
        if (found.HasInstances || found.HasPlugins)
            return Problems.Conflict($"Tool '{id}' still has {(found.HasInstances ? "instances" : "plugins")}; delete them first.");
        await settings.DeleteOwnedAsync(db, tx, "tool", id, http);
        await db.ExecuteAsync("DELETE FROM tools WHERE id = @id", new { id }, tx);
        await tx.CommitAsync();
        return TypedResults.NoContent();
    }

    private sealed record DeleteCheck
    {
        public bool HasInstances { get; init; }
        public bool HasPlugins { get; init; }
    }
}
