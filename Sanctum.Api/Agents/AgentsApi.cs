using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Health;

namespace Sanctum.Api.Agents;

public static class AgentsApi
{
    public static RouteGroupBuilder MapAgents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/agents").WithTags("Agents").WithRequestExamples(AgentExamples.All).RequireReader();

        group.MapGet("/", List).WithName("ListAgents")
            .WithSummary("Active agents visible to the caller, by name (admins see all; include_inactive=true adds inactive ones for admins)");
        group.MapGet("/{id}", Get).WithName("GetAgent").WithSummary("One agent visible to the caller");
        group.MapPost("/", Create).WithName("CreateAgent").RequireAdmin()
            .WithSummary("Add an agent (admin; the create-agent form); its id becomes a tool category")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{id}", Patch).WithName("UpdateAgent").RequireAdmin()
            .WithSummary("Change the fields present (admin); visible_to_users/visible_to_roles: null = everyone, absent = unchanged")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", Delete).WithName("DeleteAgent").RequireAdmin()
            .WithSummary("Deactivate an agent (admin; soft delete: is_active becomes false)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<JsonBody<IEnumerable<Agent>>> List(DbConnection db, ResultCache cache, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, ClaimsPrincipal user,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "include_inactive")] bool includeInactive = false)
    {
        var viewer = AgentVisibility.ViewerOf(user);
        return await cache.GetAsync(new VisibleAgents(viewer, includeInactive && viewer.IsAdmin), async key =>
        {
            var parameters = new DynamicParameters(key.Viewer.Parameters());
            parameters.Add("all", key.IncludeInactive);
            return new JsonBody<IEnumerable<Agent>>(await ShownAsync(db, await db.QueryAsync<Agent>($"""
                SELECT {Agent.Columns} FROM agents
                WHERE (is_active = TRUE OR @all) AND {AgentVisibility.Where}
                ORDER BY name, id
                """, parameters)), json.Value.SerializerOptions);
        });
    }

    /// <summary>Cache key: the agents list as one viewer sees it. Status and last poll are stored, so it changes only by a commit.</summary>
    private sealed record VisibleAgents(AgentVisibility.Viewer Viewer, bool IncludeInactive);

    private static async Task<Results<Ok<Agent>, ProblemHttpResult>> Get(string id, DbConnection db, ClaimsPrincipal user)
    {
        // Inactive or invisible agents read as absent to non-admins, so their existence does not leak.
        return await db.QuerySingleOrDefaultAsync<Agent>($"SELECT {Agent.Columns} FROM agents WHERE {AgentVisibility.ById}",
                AgentVisibility.Parameters(user, id)) is { } agent
            ? TypedResults.Ok((await ShownAsync(db, [agent])).Single())
            : Problems.NotFound($"Agent '{id}'");
    }

    /// <summary>Agents as responses show them: with when a relay last polled them.</summary>
    private static Task<IReadOnlyList<Agent>> ShownAsync(DbConnection db, IEnumerable<Agent> agents) => RelayPresence.WithLastPollAsync(db, agents);

    private const string NoRelayYet = RelayPresence.NoRelayYet;

    /// <summary>Ids an agent cannot have: they are tool categories.</summary>
    public static readonly string[] ReservedIds = ["master", "smcp"];

    private static async Task<Results<Created<Agent>, ValidationProblem, ProblemHttpResult>> Create(
        AgentWrite body, DbConnection db, ClaimsPrincipal user, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Errors().Required("id", body.Id);
        if (body.Id is not null && ReservedIds.Contains(body.Id)) errors.Add("id", "master and smcp are tool categories, not agent ids.");
        if ((await AgentRules.CheckAsync(body, create: true, db, errors)).Any) return Problems.Invalid(errors);
        if (await ExistsAsync(db, body.Id!, cancellationToken))
            return Problems.Conflict($"An agent with id '{body.Id}' already exists.");

        var agent = await InsertAsync(db, body, user.UserId(), lettaUid: null, clock, cancellationToken);
        return TypedResults.Created($"/api/agents/{agent.Id}", (await ShownAsync(db, [agent])).Single());
    }

    public static Task<bool> ExistsAsync(DbConnection db, string id, CancellationToken cancellationToken) =>
        db.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM agents WHERE id = @id)", new { id }, cancellationToken: cancellationToken));

    /// <summary>Adds a checked agent (the create form, or an import from Letta with its letta_uid); its status comes from relay presence unless given.</summary>
    public static async Task<Agent> InsertAsync(DbConnection db, AgentWrite body, long? createdBy, string? lettaUid, TimeProvider clock, CancellationToken cancellationToken) =>
        await db.QuerySingleAsync<Agent>(new CommandDefinition($"""
            INSERT INTO agents (id, name, display_name, description, status, status_source, status_reason, status_since, is_active, visible_to_users, visible_to_roles, created_by, letta_uid, created_at, updated_at)
            VALUES (@id, @name, @displayName, @description, coalesce(@status, 'Off'),
                CASE WHEN @status IS NULL THEN 'relay' ELSE 'manual' END, CASE WHEN @status IS NULL THEN @noRelay END, @now, @isActive, @users, @roles, @createdBy, @lettaUid, @now, @now)
            RETURNING {Agent.Columns}
            """,
            new
            {
                id = body.Id, name = body.Name, displayName = body.DisplayName, description = body.Description,
                status = body.Status, noRelay = NoRelayYet, isActive = body.IsActive ?? true,
                users = AgentRules.Visibility(body.VisibleToUsers).Json, roles = AgentRules.Visibility(body.VisibleToRoles).Json,
                createdBy, lettaUid, now = Timestamp.Now(clock),
            }, cancellationToken: cancellationToken));

    /// <summary>Agents as responses show them: with when a relay last polled them.</summary>
    public static async Task<Agent> ShownAsync(DbConnection db, Agent agent) => (await ShownAsync(db, [agent])).Single();

    private static async Task<Results<Ok<Agent>, ValidationProblem, ProblemHttpResult>> Patch(
        string id, AgentWrite body, DbConnection db, TimeProvider clock, StatusWriter status, HttpContext http, IOptions<RelayPresenceOptions> presence)
    {
        var errors = new Errors();
        if (body.Id is not null && body.Id != id) errors.Add("id", "The id cannot change: leave it out or send the id of the address.");
        if ((await AgentRules.CheckAsync(body, create: false, db, errors)).Any) return Problems.Invalid(errors);

        var users = AgentRules.Visibility(body.VisibleToUsers);
        var roles = AgentRules.Visibility(body.VisibleToRoles);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var agent = await db.QuerySingleOrDefaultAsync<Agent>($"""
            UPDATE agents SET name = coalesce(@name, name), display_name = coalesce(@displayName, display_name),
                description = coalesce(@description, description),
                is_active = coalesce(@isActive, is_active),
                visible_to_users = CASE WHEN @setUsers THEN @users ELSE visible_to_users END,
                visible_to_roles = CASE WHEN @setRoles THEN @roles ELSE visible_to_roles END,
                updated_at = @now
            WHERE id = @id
            RETURNING {Agent.Columns}
            """,
            new
            {
                id, name = body.Name, displayName = body.DisplayName, description = body.Description,
                isActive = body.IsActive, setUsers = users.Given, users = users.Json, setRoles = roles.Given, roles = roles.Json,
                now = Timestamp.Now(clock),
            }, tx);
        if (agent is null) return Problems.NotFound($"Agent '{id}'");
        var changed = body.Status is not null && await status.SetAsync(db, tx, StatusWriter.Agent, id, new StatusUpdate(body.Status, "manual", null), http) is not null;
        // Activating or deactivating changes where the status comes from (relay presence or Off by hand).
        if (body.IsActive is not null && await RelayPresence.SyncAsync(db, tx, status, clock.GetUtcNow(), presence.Value.WindowSeconds) > 0) changed = true;
        if (changed) agent = await db.QuerySingleAsync<Agent>($"SELECT {Agent.Columns} FROM agents WHERE id = @id", new { id }, tx);
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.Ok((await ShownAsync(db, [agent])).Single());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, DbConnection db, TimeProvider clock, StatusWriter status, IOptions<RelayPresenceOptions> presence)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await db.ExecuteAsync("UPDATE agents SET is_active = FALSE, updated_at = @now WHERE id = @id", new { id, now = Timestamp.Now(clock) }, tx) != 1)
            return Problems.NotFound($"Agent '{id}'");
        await RelayPresence.SyncAsync(db, tx, status, clock.GetUtcNow(), presence.Value.WindowSeconds);
        await tx.CommitAsync();
        status.Committed(tx);
        return TypedResults.NoContent();
    }
}
