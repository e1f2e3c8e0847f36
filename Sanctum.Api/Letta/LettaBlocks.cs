using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Sanctum.Api.Audit;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Letta;

/// <summary>The body of PUT /api/agents/{id}/letta/blocks/{label}: the block's new value.</summary>
public sealed record LettaBlockWrite
{
    /// <summary>The whole new value (at most the block's limit in characters).</summary>
    [RequiredField(AllowEmptyStrings = true), Text(LettaBlocks.MaxValue, AllowControl = true)]
    public string? Value { get; init; }
}

/// <summary>
/// Changing a memory block through Letta's modify-block call, guarded on our side: Letta's current value is read first
/// and must still be the one the client read (its ETag in If-Match), else 412 and nothing is sent. Letta itself has no
/// conditional write, so a change made on Letta between that read and our write is not seen.
/// </summary>
public static class LettaBlocks
{
    public const int MaxValue = 1_000_000;

    public static async Task<Results<Ok<LettaBlock>, ValidationProblem, ProblemHttpResult>> Put(
        string id, string label, LettaBlockWrite body, DbConnection db, ClaimsPrincipal user, LettaClient letta, AuditLog audit,
        HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Errors();
        if (!LettaIds.IsLabel(label)) errors.Add("label", $"Must match {LettaIds.LabelPattern}.");
        if (errors.Any) return Problems.Invalid(errors);
        if (string.IsNullOrWhiteSpace(http.Request.Headers.IfMatch.ToString()))
            return TypedResults.Problem(statusCode: StatusCodes.Status428PreconditionRequired, title: "Precondition Required",
                detail: "Send If-Match with the block's etag as you read it (GET /api/agents/{id}/letta), so a change made since is not overwritten.");
        if (await LettaView.FindAsync(db, user, id, cancellationToken) is not { } agent) return Problems.NotFound($"Agent '{id}'");
        if (agent.LettaUid is not { } uid) return Problems.Conflict($"Agent '{id}' is not linked to a Letta agent.");
        if (await letta.LinkAsync(cancellationToken) is not { } link) return Problems.Conflict(LettaClient.NotConfigured);

        var path = LettaClient.Path("agents", uid, "core-memory", "blocks", label);
        LettaBlock current;
        try
        {
            if (LettaBlock.From(await letta.GetAsync(link, path, cancellationToken), label) is not { } read)
                return LettaIds.Failed(new PeerFailure("answered a block without a value", off: false));
            current = read;
        }
        catch (PeerFailure failure) when (failure.Status == StatusCodes.Status404NotFound)
        {
            return Problems.NotFound($"Memory block '{label}' of Letta agent '{uid}'");
        }
        catch (PeerFailure failure)
        {
            return LettaIds.Failed(failure);
        }
        if (!Broca.BrocaResults.Matches(http, current.Etag))
            return TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition Failed",
                detail: $"Memory block '{label}' changed on Letta since you read it: nothing was written. Reload it and apply your change again.");
        var characters = body.Value!.EnumerateRunes().Count();
        if (current.Limit is { } limit && characters > limit)
            return Problems.Invalid("value", $"The block holds at most {limit} characters; this value has {characters}.");

        var details = new { letta_uid = uid, label, characters_before = current.Characters, characters_after = characters };
        try
        {
            var written = LettaBlock.From(await letta.SendAsync(link, HttpMethod.Patch, path, new { value = body.Value }, link.Timeout, cancellationToken), label)
                ?? current with { Value = body.Value, Characters = characters, Etag = LettaBlock.EtagOf(body.Value) };
            audit.Record(new AuditEvent("letta.block.updated", "agent", id, details), http);
            http.Response.Headers.ETag = written.Etag;
            return TypedResults.Ok(written);
        }
        catch (PeerFailure failure)
        {
            audit.Record(new AuditEvent("letta.block.updated", "agent", id, new { details.letta_uid, label, error = failure.Message },
                failure.TimedOut ? "timeout" : "failed"), http);
            return LettaIds.Failed(failure);
        }
    }
}
