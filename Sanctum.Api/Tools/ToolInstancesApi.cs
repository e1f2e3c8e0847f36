using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Tools;

public static class ToolInstancesApi
{
    public static RouteGroupBuilder MapToolInstances(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tools/{id}/instances").WithTags("Tool instances").RequireReader();

        group.MapGet("/", List).WithName("ListToolInstances").WithSummary("The tool's instances, by id").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{instanceId:long}", Get).WithName("GetToolInstance").WithSummary("One instance of the tool").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/", Create).WithName("CreateToolInstance").RequireAdmin()
            .WithSummary("Add an instance (admin); config must satisfy the tool's config_schema (400 names each failing path); an agent-scoped tool needs agent_id and allows one instance per agent (409)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{instanceId:long}", Patch).WithName("UpdateToolInstance").RequireAdmin()
            .WithSummary("Change the fields present (admin); null or absent fields stay as they are; a new config must satisfy the tool's config_schema")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{instanceId:long}", Delete).WithName("DeleteToolInstance").RequireAdmin()
            .WithSummary("Delete an instance (admin) with the configurations scoped to it").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public const int MaxName = 100;

    /// <summary>True when some agent has more than one instance of tool @id.</summary>
    public const string DuplicateAgentInstancesSql = """
        SELECT EXISTS (SELECT 1 FROM tool_instances WHERE tool_id = @id AND agent_id IS NOT NULL GROUP BY agent_id HAVING COUNT(*) > 1)
        """;

    private const string TakenSql = """
        SELECT EXISTS (SELECT 1 FROM tool_instances WHERE tool_id = @id AND agent_id = @agentId AND id <> @instanceId)
        """;

    private static Results<Ok<IEnumerable<ToolInstance>>, ProblemHttpResult> List(string id, SqliteConnection db)
    {
        if (ScopeOf(db, id, null) is null) return Problems.NotFound($"Tool '{id}'");
        return TypedResults.Ok(db.Query<ToolInstance>($"SELECT {ToolInstance.Columns} FROM tool_instances WHERE tool_id = @id ORDER BY id", new { id }));
    }

    private static Results<Ok<ToolInstance>, ProblemHttpResult> Get(string id, long instanceId, SqliteConnection db) =>
        Find(db, id, instanceId, null) is { } instance ? TypedResults.Ok(instance) : Problems.NotFound($"Instance {instanceId} of tool '{id}'");

    private static Results<Created<ToolInstance>, ValidationProblem, ProblemHttpResult> Create(
        string id, ToolInstanceWrite body, SqliteConnection db, ClaimsPrincipal user, TimeProvider clock)
    {
        var errors = Check(body, db);
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        var scope = ScopeOf(db, id, tx);
        if (scope is null) return Problems.NotFound($"Tool '{id}'");
        if (SchemaErrors(db, id, body, tx) is { Any: true } invalid) return Problems.Invalid(invalid);
        if (scope == "agent")
        {
            if (body.AgentId is null) return Problems.Invalid("agent_id", "This tool is agent-scoped: name the agent the instance is for.");
            if (db.ExecuteScalar<bool>(TakenSql, new { id, agentId = body.AgentId, instanceId = 0L }, tx)) return AgentTaken(id, body.AgentId);
        }

        ToolInstance instance;
        try
        {
            instance = db.QuerySingle<ToolInstance>($"""
                INSERT INTO tool_instances (tool_id, agent_id, name, config, status, last_run, next_run, created_by, created_at, updated_at, is_active)
                VALUES (@id, @agentId, @name, @config, @status, @lastRun, @nextRun, @createdBy, @now, @now, @isActive)
                RETURNING {ToolInstance.Columns}
                """,
                new
                {
                    id, agentId = body.AgentId, name = body.Name, config = ConfigText(body.Config), status = body.Status ?? "Ready",
                    lastRun = Stamp(body.LastRun), nextRun = Stamp(body.NextRun), createdBy = user.UserId(), now = Timestamp.Now(clock),
                    isActive = body.IsActive ?? true,
                }, tx);
        }
        catch (SqliteException e) when (IsOnePerAgent(e))
        {
            return AgentTaken(id, body.AgentId!);
        }
        tx.Commit();
        return TypedResults.Created($"/api/tools/{id}/instances/{instance.Id}", instance);
    }

    private static Results<Ok<ToolInstance>, ValidationProblem, ProblemHttpResult> Patch(
        string id, long instanceId, ToolInstanceWrite body, SqliteConnection db, TimeProvider clock)
    {
        var errors = Check(body, db);
        if (errors.Any) return Problems.Invalid(errors);

        db.Open();
        using var tx = db.BeginTransaction();
        if (Find(db, id, instanceId, tx) is null) return Problems.NotFound($"Instance {instanceId} of tool '{id}'");
        if (SchemaErrors(db, id, body, tx) is { Any: true } invalid) return Problems.Invalid(invalid);
        if (body.AgentId is not null && ScopeOf(db, id, tx) == "agent"
            && db.ExecuteScalar<bool>(TakenSql, new { id, agentId = body.AgentId, instanceId }, tx))
            return AgentTaken(id, body.AgentId);

        ToolInstance instance;
        try
        {
            instance = db.QuerySingle<ToolInstance>($"""
                UPDATE tool_instances SET agent_id = coalesce(@agentId, agent_id), name = coalesce(@name, name),
                    config = coalesce(@config, config), status = coalesce(@status, status), last_run = coalesce(@lastRun, last_run),
                    next_run = coalesce(@nextRun, next_run), is_active = coalesce(@isActive, is_active), updated_at = @now
                WHERE id = @instanceId AND tool_id = @id
                RETURNING {ToolInstance.Columns}
                """,
                new
                {
                    id, instanceId, agentId = body.AgentId, name = body.Name, config = ConfigText(body.Config), status = body.Status,
                    lastRun = Stamp(body.LastRun), nextRun = Stamp(body.NextRun), isActive = body.IsActive, now = Timestamp.Now(clock),
                }, tx);
        }
        catch (SqliteException e) when (IsOnePerAgent(e))
        {
            return AgentTaken(id, body.AgentId!);
        }
        tx.Commit();
        return TypedResults.Ok(instance);
    }

    /// <summary>Deletes the instance and the configurations scoped to it (each recorded in the settings history).</summary>
    private static Results<NoContent, ProblemHttpResult> Delete(string id, long instanceId, SqliteConnection db, SettingsCore settings, HttpContext http)
    {
        db.Open();
        using var tx = db.BeginTransaction();
        if (db.Execute("DELETE FROM tool_instances WHERE id = @instanceId AND tool_id = @id", new { id, instanceId }, tx) != 1)
            return Problems.NotFound($"Instance {instanceId} of tool '{id}'");
        settings.DeleteOwned(db, tx, "instance", instanceId.ToString(CultureInfo.InvariantCulture), http);
        tx.Commit();
        return TypedResults.NoContent();
    }

    /// <summary>The config sent, checked against the tool's config_schema when it has one.</summary>
    private static Errors? SchemaErrors(SqliteConnection db, string id, ToolInstanceWrite body, SqliteTransaction tx) =>
        body.Config is { ValueKind: JsonValueKind.Object } config
        && db.QuerySingleOrDefault<string>("SELECT config_schema FROM tools WHERE id = @id", new { id }, tx) is { } schema
            ? ToolConfigSchema.Check(schema, config, new Errors())
            : null;

    private static Errors Check(ToolInstanceWrite body, SqliteConnection db)
    {
        var errors = new Errors();
        errors.Text("name", body.Name, MaxName);
        errors.OneOf("status", body.Status, HealthStatus.All);
        if (body.AgentId is not null && !(FieldChecks.IsSlug(body.AgentId)
            && db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id = body.AgentId })))
            errors.Add("agent_id", "Must be the id of an existing agent.");
        if (body.Config is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            errors.Add("config", "Must be a JSON object.");
        return errors;
    }

    /// <summary>The tool's module_scope, or null when there is no such tool.</summary>
    private static string? ScopeOf(SqliteConnection db, string id, SqliteTransaction? tx) =>
        db.QuerySingleOrDefault<string>("SELECT module_scope FROM tools WHERE id = @id", new { id }, tx);

    private static ToolInstance? Find(SqliteConnection db, string id, long instanceId, SqliteTransaction? tx) =>
        db.QuerySingleOrDefault<ToolInstance>($"SELECT {ToolInstance.Columns} FROM tool_instances WHERE id = @instanceId AND tool_id = @id",
            new { id, instanceId }, tx);

    private static ProblemHttpResult AgentTaken(string id, string agentId) =>
        Problems.Conflict($"Tool '{id}' is agent-scoped and agent '{agentId}' already has an instance of it.");

    // The migration's triggers raise this when the API's own check was somehow bypassed.
    private static bool IsOnePerAgent(SqliteException e) =>
        e.SqliteErrorCode == 19 && e.Message.Contains("tool_instances.tool_id, tool_instances.agent_id", StringComparison.Ordinal);

    private static string? ConfigText(JsonElement? config) => config is { ValueKind: JsonValueKind.Object } c ? c.GetRawText() : null;

    private static string? Stamp(DateTimeOffset? time) => time is { } t ? Timestamp.From(t) : null;
}
