using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Letta;

/// <summary>
/// The Letta link as last tested (table peer_links, row letta): kept so System Settings shows the last success even
/// when the latest test failed.
/// </summary>
public sealed record LettaStatus
{
    /// <summary>Whether letta_server_url is set to an http(s) URL.</summary>
    public bool Configured { get; init; }
    public string? LastCheckedAt { get; init; }
    public bool? LastOk { get; init; }
    public string? LastSuccessAt { get; init; }
    /// <summary>The Letta server's version from its last successful health call.</summary>
    [MaxLength(100)]
    public string? Version { get; init; }
    public long? LatencyMs { get; init; }
    [MaxLength(HealthProbe.MaxError)]
    public string? Error { get; init; }
}

/// <summary>A Letta agent as its list shows it, with the Sanctum agent linked to it (letta_uid), if any.</summary>
public sealed record LettaAgentSummary(
    [property: MaxLength(LettaIds.MaxId), RegularExpression(LettaIds.IdPattern)] string Id, [property: MaxLength(LettaIds.MaxText)] string? Name,
    [property: MaxLength(LettaIds.MaxText)] string? Model, [property: MaxLength(50)] string? LinkedAgentId);

/// <summary>A page of Letta's agents; <c>next_after</c> is the cursor for the next page (Letta's own <c>after</c>), null at the end.</summary>
public sealed record LettaAgentPage(
    [property: MaxLength(LettaApi.MaxPage)] IReadOnlyList<LettaAgentSummary> Items, [property: MaxLength(LettaIds.MaxId)] string? NextAfter);

/// <summary>The limits of Letta's identifiers as we accept them in paths and bodies.</summary>
public static class LettaIds
{
    public const int MaxId = 42, MaxLabel = 100, MaxText = 500;
    /// <summary>Letta's agent ids, as its contract states them: <c>agent-</c> and a lowercase UUID v4.</summary>
    public const string IdPattern = "^agent-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
    public const string LabelPattern = "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$";

    public const string IdMessage = $"Must be a Letta agent id ({IdPattern}).";

    public static bool IsId(string? value) => value is not null && System.Text.RegularExpressions.Regex.IsMatch(value, IdPattern);
    public static bool IsLabel(string? value) => value is not null && System.Text.RegularExpressions.Regex.IsMatch(value, LabelPattern);

    public static string? Text(JsonElement owner, string name) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>The model an agent runs: Letta's <c>model</c> handle, else <c>llm_config.model</c>.</summary>
    public static string? Model(JsonElement agent) =>
        Text(agent, "model") ?? (agent.ValueKind == JsonValueKind.Object && agent.TryGetProperty("llm_config", out var llm) ? Text(llm, "model") : null);

    /// <summary>A failed Letta call as an answer: 504 when it timed out, else 502.</summary>
    public static ProblemHttpResult Failed(PeerFailure failure) => TypedResults.Problem(
        statusCode: failure.TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
        title: failure.TimedOut ? "Letta did not answer in time" : "Letta did not answer as expected", detail: $"Letta: {failure.Message}.");
}

public static class LettaApi
{
    public const int MaxPage = 100;

    public static RouteGroupBuilder MapLetta(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/letta").WithTags("Letta").WithRequestExamples(LettaExamples.All).RequireReader();
        group.MapGet("/status", Status).WithName("GetLettaStatus").WithSummary("The Letta link as last tested: last success, version, latency");
        group.MapPost("/test", Test).WithName("TestLetta").RequireAdmin()
            .WithSummary("Call Letta's /v1/health/ now with the system settings letta_server_url and letta_server_password (admin) and keep the result")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/agents", Agents).WithName("ListLettaAgents").RequireAdmin()
            .WithSummary("One page of Letta's agents (admin), through Letta's own paging: limit and the after cursor")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);
        group.MapPost("/agents/{letta_id}/import", LettaLinks.Import).WithName("ImportLettaAgent").RequireAdmin()
            .WithSummary("Add a Sanctum agent linked to this Letta agent (admin): name and description from Letta unless given; 409 when the id exists or the Letta agent is already linked")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);

        var agents = routes.MapGroup("/api/agents/{id}/letta").WithTags("Letta").WithRequestExamples(LettaExamples.All).RequireReader();
        agents.MapGet("/", LettaView.Get).WithName("GetAgentLettaView")
            .WithSummary("Letta's view of a linked agent: model, system prompt, tools, memory blocks with their ETags; reachable=false with the error when Letta does not answer")
            .ProducesProblem(StatusCodes.Status404NotFound);
        agents.MapPut("/", LettaLinks.Link).WithName("LinkAgentToLetta").RequireAdmin()
            .WithSummary("Link the agent to a Letta agent (admin; letta_uid must exist on Letta); 409 when another agent has that link")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);
        agents.MapDelete("/", LettaLinks.Unlink).WithName("UnlinkAgentFromLetta").RequireAdmin()
            .WithSummary("Remove the agent's Letta link (admin); nothing changes on Letta").ProducesProblem(StatusCodes.Status404NotFound);
        agents.MapPut("/blocks/{label}", LettaBlocks.Put).WithName("UpdateAgentLettaBlock").RequireAdmin()
            .WithSummary("Set a memory block's value on Letta (admin). If-Match (required, 428 without) is the block's ETag as read: when Letta's value differs, 412 and nothing is written; audited")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed).ProducesProblem(StatusCodes.Status428PreconditionRequired)
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);
        return group;
    }

    private static async Task<Ok<LettaStatus>> Status(DbConnection db, LettaClient letta, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ReadStatusAsync(db, await letta.LinkAsync(cancellationToken) is not null, cancellationToken));

    private static async Task<LettaStatus> ReadStatusAsync(DbConnection db, bool configured, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<LettaStatus>(new CommandDefinition(
            "SELECT last_checked_at, last_ok, last_success_at, version, latency_ms, error FROM peer_links WHERE peer = 'letta'",
            cancellationToken: cancellationToken)) ?? new LettaStatus()) with { Configured = configured };

    private static async Task<Results<Ok<LettaStatus>, ProblemHttpResult>> Test(LettaHealth health, DbConnection db, CancellationToken cancellationToken)
    {
        var result = await health.CheckAsync(cancellationToken);
        if (result is null) return Problems.Conflict(LettaClient.NotConfigured);
        return TypedResults.Ok(await ReadStatusAsync(db, true, cancellationToken));
    }

    private static async Task<Results<Ok<LettaAgentPage>, ValidationProblem, ProblemHttpResult>> Agents(
        LettaClient letta, DbConnection db, CancellationToken cancellationToken, int? limit = null, string? after = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxPage) errors.Add("limit", $"Must be from 1 to {MaxPage}.");
        if (after is not null && !LettaIds.IsId(after)) errors.Add("after", $"Must be a Letta agent id (next_after of an earlier page: agent- and a UUID v4).");
        if (errors.Any) return Problems.Invalid(errors);
        if (await letta.LinkAsync(cancellationToken) is not { } link) return Problems.Conflict(LettaClient.NotConfigured);
        var size = limit ?? 50;
        var query = $"/v1/agents/?limit={size}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
        JsonElement page;
        try
        {
            page = await letta.GetAsync(link, query, cancellationToken);
        }
        catch (PeerFailure failure)
        {
            return LettaIds.Failed(failure);
        }
        var agents = page.ValueKind == JsonValueKind.Array
            ? page.EnumerateArray().Where(a => LettaIds.IsId(LettaIds.Text(a, "id"))).Take(size).ToList()
            : [];
        var ids = agents.Select(a => LettaIds.Text(a, "id")!).ToArray();
        var linked = ids.Length == 0 ? [] : (await db.QueryAsync<(string LettaUid, string Id)>(new CommandDefinition(
            $"SELECT letta_uid, id FROM agents WHERE letta_uid {SqlDialect.Of(db).InList("@ids")}", new { ids }, cancellationToken: cancellationToken)))
            .ToDictionary(r => r.LettaUid, r => r.Id);
        var items = agents.Select(a => new LettaAgentSummary(
            LettaIds.Text(a, "id")!, Clip(LettaIds.Text(a, "name")), Clip(LettaIds.Model(a)), linked.GetValueOrDefault(LettaIds.Text(a, "id")!))).ToList();
        return TypedResults.Ok(new LettaAgentPage(items, items.Count == size ? items[^1].Id : null));
    }

    public static string? Clip(string? text) => text is { Length: > LettaIds.MaxText } ? text[..LettaIds.MaxText] : text;
}
