using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Tools;

public static class ToolsApi
{
    public static RouteGroupBuilder MapTools(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tools").WithTags("Tools").RequireReader();

        group.MapGet("/", List).WithName("ListTools")
            .WithSummary("Tools, ordered by category then name; filter with category and enabled");
        group.MapGet("/categories", Categories).WithName("ListToolCategories")
            .WithSummary("Each category with its number of tools (the settings grid's tabs)");
        group.MapGet("/{id}", Get).WithName("GetTool").WithSummary("One tool");
        return group;
    }

    private static Ok<IEnumerable<Tool>> List(SqliteConnection db, ToolListCache cache, string? category = null, bool? enabled = null) =>
        TypedResults.Ok(cache.Get(() => db.Query<Tool>($"SELECT {Tool.Columns} FROM tools ORDER BY category, name, id").AsList())
            .Where(t => (category is null || t.Category == category) && (enabled is null || t.IsEnabled == enabled)));

    private static Ok<IEnumerable<ToolCategory>> Categories(SqliteConnection db) =>
        TypedResults.Ok(db.Query<ToolCategory>("SELECT category, COUNT(*) AS count FROM tools GROUP BY category ORDER BY category"));

    private static Results<Ok<Tool>, ProblemHttpResult> Get(string id, SqliteConnection db) =>
        db.QuerySingleOrDefault<Tool>($"SELECT {Tool.Columns} FROM tools WHERE id = @id", new { id }) is { } tool
            ? TypedResults.Ok(tool)
            : Problems.NotFound($"Tool '{id}'");
}
