using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Sanctum.Api.Agents;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Letta;

/// <summary>
/// One memory block of a Letta agent: <c>characters</c> counts as Letta does (Unicode code points) against
/// <c>limit</c>; <c>etag</c> identifies the value read, to send back as If-Match when changing it.
/// </summary>
public sealed record LettaBlock(
    [property: MaxLength(LettaIds.MaxText)] string? Id, [property: MaxLength(LettaIds.MaxLabel)] string Label,
    [property: MaxLength(LettaBlocks.MaxValue)] string Value, long? Limit, int Characters,
    [property: MaxLength(LettaIds.MaxText)] string? Description, [property: MaxLength(50)] string Etag)
{
    public static string EtagOf(string value) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32] + "\"";

    /// <summary>A block as Letta answers it; <paramref name="label"/> when the answer leaves its (optional) label out.</summary>
    public static LettaBlock? From(JsonElement block, string? label = null)
    {
        if ((LettaIds.Text(block, "label") ?? label) is not { } found || LettaIds.Text(block, "value") is not { } value) return null;
        label = found;
        long? limit = block.TryGetProperty("limit", out var l) && l.TryGetInt64(out var n) ? n : null;
        return new LettaBlock(LettaIds.Text(block, "id"), label, value, limit, value.EnumerateRunes().Count(),
            LettaApi.Clip(LettaIds.Text(block, "description")), EtagOf(value));
    }
}

/// <summary>A tool attached to a Letta agent.</summary>
public sealed record LettaTool(
    [property: MaxLength(LettaIds.MaxText)] string? Id, [property: MaxLength(LettaIds.MaxText)] string? Name,
    [property: MaxLength(LettaView.MaxPrompt)] string? Description);

/// <summary>What Letta holds for an agent: its model, system prompt, attached tools and memory blocks.</summary>
public sealed record LettaAgentDetails(
    [property: MaxLength(LettaIds.MaxText)] string Id, [property: MaxLength(LettaIds.MaxText)] string? Name,
    [property: MaxLength(LettaIds.MaxText)] string? Model, [property: MaxLength(LettaView.MaxPrompt)] string? System,
    [property: MaxLength(LettaView.MaxItems)] IReadOnlyList<LettaTool> Tools, [property: MaxLength(LettaView.MaxItems)] IReadOnlyList<LettaBlock> Blocks);

/// <summary>
/// A Sanctum agent's Letta side: <c>letta_uid</c> null when not linked; <c>reachable</c> false with <c>error</c> when
/// Letta did not answer (our own record is unaffected); <c>letta</c> what Letta answered.
/// </summary>
public sealed record LettaAgentView(
    [property: MaxLength(50)] string AgentId, [property: MaxLength(LettaIds.MaxText)] string? LettaUid, bool? Reachable,
    [property: MaxLength(LettaIds.MaxText)] string? Error, LettaAgentDetails? Letta);

/// <summary>A Sanctum agent's id and the Letta agent it is linked to, if any.</summary>
public sealed class AgentLink
{
    public string Id { get; init; } = "";
    public string? LettaUid { get; init; }
}

public static class LettaView
{
    public const int MaxPrompt = 1_000_000, MaxItems = 1000;

    /// <summary>The agent's id and letta_uid as the caller may see it; null when it is absent or hidden from them.</summary>
    public static Task<AgentLink?> FindAsync(DbConnection db, ClaimsPrincipal user, string id, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<AgentLink?>(new CommandDefinition(
            $"SELECT id, letta_uid FROM agents WHERE {AgentVisibility.ById}", AgentVisibility.Parameters(user, id), cancellationToken: cancellationToken));

    public static async Task<Results<Ok<LettaAgentView>, ProblemHttpResult>> Get(
        string id, DbConnection db, ClaimsPrincipal user, LettaClient letta, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, user, id, cancellationToken) is not { } agent) return Problems.NotFound($"Agent '{id}'");
        if (agent.LettaUid is not { } uid) return TypedResults.Ok(new LettaAgentView(id, null, null, null, null));
        if (await letta.LinkAsync(cancellationToken) is not { } link) return TypedResults.Ok(new LettaAgentView(id, uid, false, LettaClient.NotConfigured, null));
        try
        {
            var found = await letta.GetAsync(link, LettaClient.Path("agents", uid), cancellationToken);
            return TypedResults.Ok(new LettaAgentView(id, uid, true, null, Details(found, uid)));
        }
        catch (PeerFailure failure)
        {
            return TypedResults.Ok(new LettaAgentView(id, uid, false, LettaApi.Clip($"Letta: {failure.Message}"), null));
        }
    }

    public static LettaAgentDetails Details(JsonElement agent, string uid)
    {
        var blocks = Items(agent, "blocks");
        if (blocks.Count == 0 && agent.ValueKind == JsonValueKind.Object && agent.TryGetProperty("memory", out var memory)) blocks = Items(memory, "blocks");
        return new LettaAgentDetails(
            LettaIds.Text(agent, "id") ?? uid, LettaApi.Clip(LettaIds.Text(agent, "name")), LettaApi.Clip(LettaIds.Model(agent)),
            Prompt(LettaIds.Text(agent, "system")),
            Items(agent, "tools").Select(t => new LettaTool(LettaIds.Text(t, "id"), LettaApi.Clip(LettaIds.Text(t, "name")), Prompt(LettaIds.Text(t, "description"))))
                .OrderBy(t => t.Name, StringComparer.Ordinal).ToList(),
            blocks.Select(b => LettaBlock.From(b)).OfType<LettaBlock>().OrderBy(b => b.Label, StringComparer.Ordinal).ToList());
    }

    private static List<JsonElement> Items(JsonElement owner, string name) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Take(MaxItems).ToList()
            : [];

    private static string? Prompt(string? text) => text is { Length: > MaxPrompt } ? text[..MaxPrompt] : text;
}
