using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Data.Common;
using Dapper;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Health;

namespace Sanctum.Api.Tools;

/// <summary>
/// The body of POST, PUT and PATCH /api/tools. POST and PUT take the whole tool (absent optional fields get their
/// defaults); PATCH changes only the fields present and non-null.
/// </summary>
public sealed record ToolWrite
{
    /// <summary>Slug <c>^[a-z0-9][a-z0-9-]{0,49}$</c>; required on create, and must equal the route id when sent to PUT.</summary>
    [Text(50), Slug]
    public string? Id { get; init; }
    [Text(ToolRules.MaxName, NotBlank = true)]
    public string? Name { get; init; }
    [Text(ToolRules.MaxDescription)]
    public string? Description { get; init; }
    [Text(ToolRules.MaxEmoji)]
    public string? Emoji { get; init; }
    /// <summary>master, smcp or the id of an existing agent.</summary>
    [Text(50), Pattern(FieldChecks.SlugPattern, "Must be master, smcp or the id of an existing agent.")]
    public string? Category { get; init; }
    /// <summary>Healthy, Degraded, Off or Ready (default Healthy).</summary>
    [OneOf(typeof(HealthStatus))]
    public string? Status { get; init; }
    /// <summary>Where the tool's page lives: a path starting with a single /.</summary>
    [Text(ToolRules.MaxRoutePath)]
    [Pattern(ToolRules.RoutePathPattern, "Must be a path on this site starting with a single /, without spaces, backslashes, empty (//) or dot (., .., %2e) segments or an encoded / or \\.")]
    public string? RoutePath { get; init; }
    public bool? IsEnabled { get; init; }
    /// <summary>global (default) or agent: an agent-scoped tool has at most one instance per agent.</summary>
    [OneOf(typeof(ToolRules), nameof(ToolRules.Scopes))]
    public string? ModuleScope { get; init; }
    /// <summary>A JSON object (a JSON Schema for the instances' config), or null.</summary>
    public JsonElement? ConfigSchema { get; init; }
}

public static class ToolRules
{
    public const int MaxName = 100, MaxDescription = 1000, MaxEmoji = 32, MaxRoutePath = 200;
    /// <summary>A path on this site: one leading /, no second / after it, no whitespace or backslash (what <see cref="Check"/> enforces).</summary>
    /// <summary>
    /// A path on this site as a browser resolves it: no empty segment ("//"), no dot segment (".", "..", "%2e"), no
    /// encoded slash or backslash, since "/.//evil.example/" would resolve to "//evil.example/", another site.
    /// </summary>
    public const string RoutePathPattern = @"^/(?!/)(?!.*//)(?!.*/(\.|%2[eE]){1,2}(/|[?#]|$))(?!.*%(2[fF]|5[cC]))[^\s\\]*$";
    public static readonly string[] Scopes = ["global", "agent"];
    public static readonly string[] FixedCategories = ["master", "smcp"];

    /// <summary>Checks the fields present; <paramref name="whole"/> also requires name and category.</summary>
    public static async Task<Errors> CheckAsync(ToolWrite body, bool whole, DbConnection db, Errors errors)
    {
        if (whole) errors.Required("name", body.Name).Required("category", body.Category, "master, smcp or an agent id");
        if (body.Category is { } category && !FixedCategories.Contains(category)
            && !await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id = category }))
            errors.Add("category", "Must be master, smcp or the id of an existing agent.");

        if (body.ConfigSchema is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            errors.Add("config_schema", "Must be a JSON object or null.");
        else if (body.ConfigSchema is { ValueKind: JsonValueKind.Object } schema) ToolConfigSchema.Build(schema.GetRawText(), errors);
        return errors;
    }

    public static string? SchemaText(JsonElement? schema) => schema is { ValueKind: JsonValueKind.Object } s ? s.GetRawText() : null;
}
