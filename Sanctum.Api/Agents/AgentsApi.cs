using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Agents;

public static class AgentsApi
{
    public static RouteGroupBuilder MapAgents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/agents").WithTags("Agents").RequireReader();

        group.MapGet("/", List).WithName("ListAgents")
            .WithSummary("Active agents visible to the caller, by name (admins see all; include_inactive=true adds inactive ones for admins)");
        group.MapGet("/{id}", Get).WithName("GetAgent").WithSummary("One agent visible to the caller");
        return group;
    }

    private static Ok<IEnumerable<Agent>> List(SqliteConnection db, ClaimsPrincipal user, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "include_inactive")] bool includeInactive = false)
    {
        var parameters = new DynamicParameters(AgentVisibility.Parameters(user));
        parameters.Add("all", includeInactive && user.IsAdmin());
        return TypedResults.Ok(db.Query<Agent>($"""
            SELECT {Agent.Columns} FROM agents
            WHERE (is_active = 1 OR @all = 1) AND {AgentVisibility.Where}
            ORDER BY name, id
            """, parameters));
    }

    private static Results<Ok<Agent>, ProblemHttpResult> Get(string id, SqliteConnection db, ClaimsPrincipal user)
    {
        var parameters = new DynamicParameters(AgentVisibility.Parameters(user));
        parameters.Add("id", id);
        // Inactive or invisible agents read as absent to non-admins, so their existence does not leak.
        return db.QuerySingleOrDefault<Agent>($"""
            SELECT {Agent.Columns} FROM agents
            WHERE id = @id AND (is_active = 1 OR @isAdmin = 1) AND {AgentVisibility.Where}
            """, parameters) is { } agent
            ? TypedResults.Ok(agent)
            : Problems.NotFound($"Agent '{id}'");
    }
}
