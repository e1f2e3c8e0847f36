using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sanctum.Api.Agents;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Letta;

/// <summary>The body of PUT /api/agents/{id}/letta: the Letta agent to link to.</summary>
public sealed record LettaLinkWrite
{
    [RequiredField, Text(LettaIds.MaxId), Pattern(LettaIds.IdPattern, LettaIds.IdMessage)]
    public string? LettaUid { get; init; }
}

/// <summary>The body of POST /api/letta/agents/{letta_id}/import: the new Sanctum agent's id, and its name if not Letta's.</summary>
public sealed record LettaImport
{
    /// <summary>Slug <c>^[a-z0-9][a-z0-9-]{0,49}$</c> (not master or smcp).</summary>
    [RequiredField, Text(50), Slug]
    public string? Id { get; init; }
    /// <summary>Absent: the Letta agent's name.</summary>
    [Text(AgentRules.MaxName, NotBlank = true)]
    public string? Name { get; init; }
}

/// <summary>Linking Sanctum agents to Letta agents (agents.letta_uid, unique) and importing Letta agents as Sanctum agents.</summary>
public static class LettaLinks
{
    public static async Task<Results<Ok<Agent>, ValidationProblem, ProblemHttpResult>> Link(
        string id, LettaLinkWrite body, DbConnection db, LettaClient letta, AuditLog audit, HttpContext http, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var uid = body.LettaUid!;
        var previous = await db.QuerySingleOrDefaultAsync<AgentLink?>(new CommandDefinition(
            "SELECT id, letta_uid FROM agents WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        if (previous is null) return Problems.NotFound($"Agent '{id}'");
        if (await LinkedToAsync(db, uid, cancellationToken) is { } other && other != id)
            return Problems.Conflict($"Letta agent '{uid}' is already linked to agent '{other}'.");
        if (await letta.LinkAsync(cancellationToken) is not { } link) return Problems.Conflict(LettaClient.NotConfigured);
        try
        {
            await letta.GetAsync(link, LettaClient.Path("agents", uid), cancellationToken);
        }
        catch (PeerFailure failure) when (failure.Status == StatusCodes.Status404NotFound)
        {
            return Problems.Invalid("letta_uid", $"Letta has no agent '{uid}'.");
        }
        catch (PeerFailure failure)
        {
            return LettaIds.Failed(failure);
        }
        // The unique index ux_agents_letta_uid settles a race with another link: its violation answers 409.
        var agent = await db.QuerySingleAsync<Agent>(new CommandDefinition(
            $"UPDATE agents SET letta_uid = @uid, updated_at = @now WHERE id = @id RETURNING {Agent.Columns}",
            new { id, uid, now = Timestamp.Now(clock) }, cancellationToken: cancellationToken));
        audit.Record(new AuditEvent("agent.letta.linked", "agent", id, new { letta_uid = uid, previous = previous.LettaUid }), http);
        return TypedResults.Ok(await AgentsApi.ShownAsync(db, agent));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Unlink(
        string id, DbConnection db, AuditLog audit, HttpContext http, TimeProvider clock, CancellationToken cancellationToken)
    {
        var previous = await db.QuerySingleOrDefaultAsync<AgentLink?>(new CommandDefinition(
            "SELECT id, letta_uid FROM agents WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        if (previous is null) return Problems.NotFound($"Agent '{id}'");
        if (previous.LettaUid is null) return TypedResults.NoContent();
        await db.ExecuteAsync(new CommandDefinition("UPDATE agents SET letta_uid = NULL, updated_at = @now WHERE id = @id",
            new { id, now = Timestamp.Now(clock) }, cancellationToken: cancellationToken));
        audit.Record(new AuditEvent("agent.letta.unlinked", "agent", id, new { letta_uid = previous.LettaUid }), http);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Created<Agent>, ValidationProblem, ProblemHttpResult>> Import(
        [FromRoute(Name = "letta_id")] string lettaId, LettaImport body, DbConnection db, ClaimsPrincipal user, LettaClient letta,
        AuditLog audit, HttpContext http, TimeProvider clock, CancellationToken cancellationToken)
    {
        var errors = new Errors();
        if (!LettaIds.IsId(lettaId)) errors.Add("letta_id", LettaIds.IdMessage);
        if (body.Id is not null && AgentsApi.ReservedIds.Contains(body.Id)) errors.Add("id", "master and smcp are tool categories, not agent ids.");
        if (errors.Any) return Problems.Invalid(errors);
        if (await AgentsApi.ExistsAsync(db, body.Id!, cancellationToken)) return Problems.Conflict($"An agent with id '{body.Id}' already exists.");
        if (await LinkedToAsync(db, lettaId, cancellationToken) is { } other)
            return Problems.Conflict($"Letta agent '{lettaId}' is already linked to agent '{other}'.");
        if (await letta.LinkAsync(cancellationToken) is not { } link) return Problems.Conflict(LettaClient.NotConfigured);
        JsonElement found;
        try
        {
            found = await letta.GetAsync(link, LettaClient.Path("agents", lettaId), cancellationToken);
        }
        catch (PeerFailure failure) when (failure.Status == StatusCodes.Status404NotFound)
        {
            return Problems.NotFound($"Letta agent '{lettaId}'");
        }
        catch (PeerFailure failure)
        {
            return LettaIds.Failed(failure);
        }
        var lettaName = Cut(LettaIds.Text(found, "name"), AgentRules.MaxName);
        var name = body.Name ?? (string.IsNullOrWhiteSpace(lettaName) ? body.Id! : lettaName);
        var write = new AgentWrite { Id = body.Id, Name = name, Description = Cut(LettaIds.Text(found, "description"), AgentRules.MaxDescription) };
        var agent = await AgentsApi.InsertAsync(db, write, user.UserId(), lettaId, clock, cancellationToken);
        audit.Record(new AuditEvent("agent.letta.imported", "agent", agent.Id, new { letta_uid = lettaId }), http);
        return TypedResults.Created($"/api/agents/{agent.Id}", await AgentsApi.ShownAsync(db, agent));
    }

    private static Task<string?> LinkedToAsync(DbConnection db, string uid, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT id FROM agents WHERE letta_uid = @uid", new { uid }, cancellationToken: cancellationToken));

    private static string? Cut(string? text, int max) => text is { Length: > 0 } && text.Length > max ? text[..max] : text;
}
