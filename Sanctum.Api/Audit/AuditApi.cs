using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Audit;

public static class AuditApi
{
    public const int DefaultLimit = 100, MaxLimit = 500;
    /// <summary>The longest action, target type or target id (and actor) a filter may name; a target is type:id.</summary>
    public const int MaxFilter = 200, MaxActor = 50, MaxTarget = 2 * MaxFilter + 1, MaxAddress = 64;

    /// <summary>How long a read waits for events still queued for the table (so a read sees what came before it).</summary>
    private static readonly TimeSpan FlushWait = TimeSpan.FromSeconds(2);

    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/audit").WithTags("Audit").RequireAdmin().DenyReadTokens();
        group.MapGet("/", List).WithName("ListAuditEvents").Paged(MaxLimit)
            .WithSummary("Audit events, newest first (admin); action matches exactly or as a dotted prefix (auth = auth.*), target is type:id or either part; page on with cursor = next_cursor");
        group.MapGet("/verify", Verify).WithName("VerifyAuditLog")
            .WithSummary("Re-checks every row's MAC and link (admin): ok, rows checked, and the first row that was changed, removed or reordered; with checkpoint=id:mac (from GET /api/audit/checkpoint) also that the row it names is still there unchanged, so rows removed from the newest end are caught");
        group.MapGet("/checkpoint", Checkpoint).WithName("GetAuditCheckpoint")
            .WithSummary("The newest audit row's id and MAC (admin), also written to the server's log: keep it outside the server and pass it to verify later")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<AuditPage>, ValidationProblem>> List(
        Database database, AuditLog audit, string? action = null, string? actor = null, string? target = null,
        DateTimeOffset? since = null, DateTimeOffset? until = null, int? limit = null, long? cursor = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (cursor is < 1) errors.Add("cursor", "Must be a next_cursor from an earlier page.");
        if (action?.Length > MaxFilter) errors.Add("action", $"Must be at most {MaxFilter} characters.");
        if (actor?.Length > MaxActor) errors.Add("actor", $"Must be at most {MaxActor} characters.");
        if (target?.Length > MaxTarget) errors.Add("target", $"Must be at most {MaxTarget} characters.");
        if (errors.Any) return Problems.Invalid(errors);

        await audit.FlushAsync(FlushWait);
        string? targetType = null, targetId = null;
        if (target is not null)
        {
            var colon = target.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0) (targetType, targetId) = (target[..colon], target[(colon + 1)..]);
        }
        var args = new
        {
            action, dotted = action + ".", dottedEnd = action + "/", actor, target, targetType, targetId,
            since = since is { } s ? Timestamp.From(s) : null, until = until is { } u ? Timestamp.From(u) : null,
            cursor, take = (limit ?? DefaultLimit) + 1,
        };
        // Only the filters given, each a constant fragment ('/' follows '.' in code order: a dotted prefix is a range).
        var filters = new[]
        {
            action is null ? null : "(action = @action OR (action >= @dotted AND action < @dottedEnd))",
            actor is null ? null : "actor = @actor",
            target is null ? null : targetType is not null ? "(target_type = @targetType AND target_id = @targetId)" : "(target_type = @target OR target_id = @target)",
            since is null ? null : "at >= @since",
            until is null ? null : "at < @until",
            cursor is null ? null : "id < @cursor",
        }.OfType<string>().ToList();
        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);

        await using DbConnection db = database.Open();
        var rows = (await db.QueryAsync<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log {where} ORDER BY id DESC LIMIT @take", args)).AsList();
        var more = rows.Count == args.take;
        if (more) rows.RemoveAt(rows.Count - 1);
        return TypedResults.Ok(new AuditPage(rows, more ? rows[^1].Id : null));
    }

    private static async Task<Results<Ok<AuditVerification>, ValidationProblem>> Verify(
        AuditVerifier verifier, [MaxLength(84)] string? checkpoint = null, CancellationToken cancellationToken = default)
    {
        var kept = AuditCheckpoint.Parse(checkpoint);
        if (checkpoint is not null && kept is null)
            return Problems.Invalid(new Errors().Add("checkpoint", "Must be id:mac as GET /api/audit/checkpoint gave it (a row id, a colon, 64 lower-case hex digits)."));
        return TypedResults.Ok(await verifier.VerifyAsync(kept, cancellationToken));
    }

    private static async Task<Results<Ok<AuditCheckpoint>, ProblemHttpResult>> Checkpoint(AuditVerifier verifier, CancellationToken cancellationToken) =>
        await verifier.CheckpointAsync(cancellationToken) is { } checkpoint
            ? TypedResults.Ok(checkpoint) : Problems.NotFound("An audit event");
}

/// <summary>A page of audit events; pass <c>next_cursor</c> as <c>cursor</c> for the next (older) page, null at the end.</summary>
public sealed record AuditPage([property: MaxLength(AuditApi.MaxLimit)] IReadOnlyList<AuditEntry> Items, long? NextCursor);
