using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Broca;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Settings;

namespace Sanctum.Api.Tools;

public static class ToolInstancesApi
{
    public static RouteGroupBuilder MapToolInstances(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/tools/{id}/instances").WithTags("Tool instances").WithRequestExamples(ToolExamples.All).RequireReader();

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
        group.MapPost("/{instanceId:long}/check", RunCheck).WithName("RunToolInstanceCheck").RequireAdmin()
            .WithSummary("Run the instance's health check now (admin) and record its result; 409 when it has no check or is inactive")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
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

    private static async Task<Results<Ok<IEnumerable<ToolInstance>>, ProblemHttpResult>> List(string id, DbConnection db, ClaimsPrincipal user)
    {
        var visible = AgentVisibility.Parameters(user, id);
        if (!await db.ExecuteScalarAsync<bool>($"SELECT {AgentVisibility.ToolVisible("@id")}", visible)) return Problems.NotFound($"Tool '{id}'");
        return TypedResults.Ok(await db.QueryAsync<ToolInstance>(
            $"SELECT {ToolInstance.Columns} FROM tool_instances WHERE tool_id = @id AND {AgentVisibility.Visible("agent_id")} ORDER BY id", visible));
    }

    private static async Task<Results<Ok<ToolInstance>, ProblemHttpResult>> Get(string id, long instanceId, DbConnection db, ClaimsPrincipal user)
    {
        var visible = AgentVisibility.Parameters(user, id);
        visible.Add("instanceId", instanceId);
        return await db.QuerySingleOrDefaultAsync<ToolInstance>(
                $"SELECT {ToolInstance.Columns} FROM tool_instances WHERE id = @instanceId AND tool_id = @id AND {AgentVisibility.InstanceVisible("@instanceId")}",
                visible) is { } instance
            ? TypedResults.Ok(instance)
            : Problems.NotFound($"Instance {instanceId} of tool '{id}'");
    }

    private static async Task<Results<Created<ToolInstance>, ValidationProblem, ProblemHttpResult>> Create(
        string id, ToolInstanceWrite body, DbConnection db, ClaimsPrincipal user, TimeProvider clock, CheckRecorder checks, StatusWriter status)
    {
        var errors = await CheckAsync(body, db);
        if (id == BrocaHome.ToolId) BrocaHome.Check(body.Config, body.AgentId, creating: true, errors);
        var healthCheck = HealthCheckSpec.Read(body.HealthCheck, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var now = clock.GetUtcNow();

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var scope = await ScopeOfAsync(db, id, tx);
        if (scope is null) return Problems.NotFound($"Tool '{id}'");
        if (await SchemaErrorsAsync(db, id, body, tx) is { Any: true } invalid) return Problems.Invalid(invalid);
        if (scope == "agent")
        {
            if (body.AgentId is null) return Problems.Invalid("agent_id", "This tool is agent-scoped: name the agent the instance is for.");
            if (await db.ExecuteScalarAsync<bool>(TakenSql, new { id, agentId = body.AgentId, instanceId = 0L }, tx)) return AgentTaken(id, body.AgentId);
        }

        ToolInstance instance;
        try
        {
            instance = await db.QuerySingleAsync<ToolInstance>($"""
                INSERT INTO tool_instances (tool_id, agent_id, name, config, status, status_since, last_run, next_run, created_by, created_at,
                    updated_at, is_active, health_check, next_check_at)
                VALUES (@id, @agentId, @name, @config, @status, @now, @lastRun, @nextRun, @createdBy, @now, @now, @isActive, @check, @checkAt)
                RETURNING {ToolInstance.Columns}
                """,
                new
                {
                    id, agentId = body.AgentId, name = body.Name, config = ConfigText(body.Config), status = body.Status ?? "Ready",
                    lastRun = Stamp(body.LastRun), nextRun = Stamp(body.NextRun), createdBy = user.UserId(), now = Timestamp.From(now),
                    isActive = body.IsActive ?? true, check = healthCheck?.ToJson(), checkAt = healthCheck is null ? null : Timestamp.From(now),
                }, tx);
        }
        catch (DbException e) when (DbErrors.Classify(e).Is(DbErrorKind.UniqueViolation, OnePerAgent))
        {
            return AgentTaken(id, body.AgentId!);
        }
        instance = await AfterWriteAsync(db, tx, checks, status, instance, now);
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.Created($"/api/tools/{id}/instances/{instance.Id}", instance);
    }

    private static async Task<Results<Ok<ToolInstance>, ValidationProblem, ProblemHttpResult>> Patch(
        string id, long instanceId, ToolInstanceWrite body, DbConnection db, TimeProvider clock, CheckRecorder checks,
        StatusWriter status, HttpContext http)
    {
        var errors = await CheckAsync(body, db);
        if (id == BrocaHome.ToolId && body.Config is not null) BrocaHome.Check(body.Config, body.AgentId, creating: false, errors);
        var healthCheck = HealthCheckSpec.Read(body.HealthCheck, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var now = clock.GetUtcNow();
        var checkChange = body.HealthCheck.ValueKind switch { JsonValueKind.Object => "set", JsonValueKind.Null => "remove", _ => null };

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await FindAsync(db, id, instanceId, tx) is not { } old) return Problems.NotFound($"Instance {instanceId} of tool '{id}'");
        if (await SchemaErrorsAsync(db, id, body, tx) is { Any: true } invalid) return Problems.Invalid(invalid);
        if (body.AgentId is not null && await ScopeOfAsync(db, id, tx) == "agent"
            && await db.ExecuteScalarAsync<bool>(TakenSql, new { id, agentId = body.AgentId, instanceId }, tx))
            return AgentTaken(id, body.AgentId);

        ToolInstance instance;
        try
        {
            instance = await db.QuerySingleAsync<ToolInstance>($"""
                UPDATE tool_instances SET agent_id = coalesce(@agentId, agent_id), name = coalesce(@name, name),
                    config = coalesce(@config, config), last_run = coalesce(@lastRun, last_run),
                    next_run = coalesce(@nextRun, next_run), is_active = coalesce(@isActive, is_active), updated_at = @now,
                    health_check = CASE @checkChange WHEN 'set' THEN @check WHEN 'remove' THEN NULL ELSE health_check END,
                    next_check_at = CASE WHEN @checkChange = 'set' OR (@isActive AND is_active = FALSE) THEN @now
                                         WHEN @checkChange = 'remove' THEN NULL ELSE next_check_at END,
                    check_failures = CASE WHEN @checkChange IS NOT NULL THEN 0 ELSE check_failures END
                WHERE id = @instanceId AND tool_id = @id
                RETURNING {ToolInstance.Columns}
                """,
                new
                {
                    id, instanceId, agentId = body.AgentId, name = body.Name, config = ConfigText(body.Config),
                    lastRun = Stamp(body.LastRun), nextRun = Stamp(body.NextRun), isActive = body.IsActive, now = Timestamp.From(now),
                    checkChange, check = healthCheck?.ToJson(),
                }, tx);
        }
        catch (DbException e) when (DbErrors.Classify(e).Is(DbErrorKind.UniqueViolation, OnePerAgent))
        {
            return AgentTaken(id, body.AgentId!);
        }
        if (body.Status is not null)
            await status.SetAsync(db, tx, StatusWriter.Instance, instanceId.ToString(CultureInfo.InvariantCulture), new StatusUpdate(body.Status, "manual", null), http, now);
        instance = await AfterWriteAsync(db, tx, checks, status, (await FindAsync(db, id, instanceId, tx))!, now);
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.Ok(instance);
    }

    /// <summary>
    /// Keeps the status rules after an admin's write: a checked instance that is inactive is Off, an instance without a
    /// check has a manual status, and the tool follows its checked instances (<see cref="CheckRecorder.UpdateTool"/>).
    /// </summary>
    private static async Task<ToolInstance> AfterWriteAsync(DbConnection db, DbTransaction tx, CheckRecorder checks, StatusWriter status, ToolInstance instance, DateTimeOffset at)
    {
        var id = instance.Id.ToString(CultureInfo.InvariantCulture);
        var update = instance switch
        {
            { IsActive: false, HealthCheck: not null } when instance.Status != "Off" || instance.StatusSource != "check" =>
                new StatusUpdate("Off", "check", "Inactive: not checked."),
            { HealthCheck: null, StatusSource: "check" } => new StatusUpdate(instance.Status, "manual", null),
            _ => null,
        };
        if (update is not null) await status.SetAsync(db, tx, StatusWriter.Instance, id, update, at: at);
        await checks.UpdateToolAsync(db, tx, instance.ToolId, at);
        return update is null ? instance : (await FindAsync(db, instance.ToolId, instance.Id, tx))!;
    }

    private static async Task<Results<Ok<CheckRun>, ProblemHttpResult>> RunCheck(
        string id, long instanceId, Database database, HealthProbe probe, CheckRecorder checks, StatusWriter status, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        ToolInstance? instance;
        await using (var db = database.Create()) instance = await FindAsync(db, id, instanceId, null);
        if (instance is null) return Problems.NotFound($"Instance {instanceId} of tool '{id}'");
        if (instance.HealthCheck is null || !instance.IsActive)
            return Problems.Conflict($"Instance {instanceId} has {(instance.HealthCheck is null ? "no health check" : "its health check but is inactive")}.");

        var spec = HealthCheckSpec.FromJson(instance.HealthCheck.ToJsonString());
        var result = await probe.RunAsync(spec, instanceId, cancellationToken);
        await using (var db = await database.OpenAsync(cancellationToken))
        await using (var tx = await db.BeginTransactionAsync(cancellationToken))
        {
            await checks.ApplyAsync(db, tx, instanceId, spec.Type, result, clock.GetUtcNow());
            instance = await FindAsync(db, id, instanceId, tx);
            await tx.CommitAsync();
            status.Committed(tx);
        }
        return instance is null ? Problems.NotFound($"Instance {instanceId} of tool '{id}'") : TypedResults.Ok(new CheckRun(result, instance));
    }

    /// <summary>Deletes the instance and the configurations scoped to it (each recorded in the settings history).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, long instanceId, DbConnection db, SettingsCore settings, HttpContext http, CheckRecorder checks, StatusWriter status,
        TimeProvider clock)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await db.ExecuteAsync("DELETE FROM tool_instances WHERE id = @instanceId AND tool_id = @id", new { id, instanceId }, tx) != 1)
            return Problems.NotFound($"Instance {instanceId} of tool '{id}'");
        await settings.DeleteOwnedAsync(db, tx, "instance", instanceId.ToString(CultureInfo.InvariantCulture), http);
        await checks.UpdateToolAsync(db, tx, id, clock.GetUtcNow());
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.NoContent();
    }

    /// <summary>The config sent, checked against the tool's config_schema when it has one.</summary>
    private static async Task<Errors?> SchemaErrorsAsync(DbConnection db, string id, ToolInstanceWrite body, DbTransaction tx) =>
        body.Config is { ValueKind: JsonValueKind.Object } config
        && await db.QuerySingleOrDefaultAsync<string>("SELECT config_schema FROM tools WHERE id = @id", new { id }, tx) is { } schema
            ? ToolConfigSchema.Check(schema, config, new Errors())
            : null;

    private static async Task<Errors> CheckAsync(ToolInstanceWrite body, DbConnection db)
    {
        var errors = new Errors();
        if (body.AgentId is not null && !await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id = body.AgentId }))
            errors.Add("agent_id", "Must be the id of an existing agent.");
        if (body.Config is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
            errors.Add("config", "Must be a JSON object.");
        return errors;
    }

    /// <summary>The tool's module_scope, or null when there is no such tool.</summary>
    private static async Task<string?> ScopeOfAsync(DbConnection db, string id, DbTransaction? tx) =>
        await db.QuerySingleOrDefaultAsync<string>("SELECT module_scope FROM tools WHERE id = @id", new { id }, tx);

    private static async Task<ToolInstance?> FindAsync(DbConnection db, string id, long instanceId, DbTransaction? tx) =>
        await db.QuerySingleOrDefaultAsync<ToolInstance>($"SELECT {ToolInstance.Columns} FROM tool_instances WHERE id = @instanceId AND tool_id = @id",
            new { id, instanceId }, tx);

    private static ProblemHttpResult AgentTaken(string id, string agentId) =>
        Problems.Conflict($"Tool '{id}' is agent-scoped and agent '{agentId}' already has an instance of it.");

    // The migration's triggers raise this (a unique violation of this name, on both engines) when the API's own
    // check was somehow bypassed.
    private const string OnePerAgent = "tool_instances_one_per_agent";

    private static string? ConfigText(JsonElement? config) => config is { ValueKind: JsonValueKind.Object } c ? c.GetRawText() : null;

    private static string? Stamp(DateTimeOffset? time) => time is { } t ? Timestamp.From(t) : null;
}

/// <summary>The answer of POST .../check: what the probe found, and the instance after recording it.</summary>
public sealed record CheckRun(ProbeResult Result, ToolInstance Instance);
