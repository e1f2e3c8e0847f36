using System.Text.Json;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Audit;

namespace Sanctum.Api.Jobs.Kinds;

/// <summary>
/// The <c>audit-retention</c> job: deletes audit rows older than <c>keep_days</c> (default 365) from the oldest end and
/// appends an <c>audit.pruned</c> anchor naming the last deleted id and its MAC (the anchor carries its own MAC as every
/// row does), in the same transaction, so
/// GET /api/audit/verify still checks every row that is left.
/// </summary>
public sealed class AuditRetentionJob(Database database, AuditChain chain, TimeProvider clock) : IJobKind
{
    public const int DefaultKeepDays = 365, MinKeepDays = 1, MaxKeepDays = 36_500;

    public string Kind => "audit-retention";

    public string Description => $"Delete audit events older than keep_days (default {DefaultKeepDays}), keeping the chain verifiable";

    public IReadOnlyList<JobParam> Params => [new("keep_days", "Keep audit events for (days)", MinKeepDays, MaxKeepDays, DefaultKeepDays)];

    public void Validate(JsonElement parameters, Errors errors)
    {
        if (parameters.ValueKind != JsonValueKind.Object) return;
        foreach (var property in parameters.EnumerateObject())
        {
            if (property.Name != "keep_days") errors.Add($"params.{property.Name}", "Unknown parameter: audit-retention takes keep_days.");
            else if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out var days) || days is < MinKeepDays or > MaxKeepDays)
                errors.Add("params.keep_days", $"Must be a whole number of days, {MinKeepDays} to {MaxKeepDays}.");
        }
    }

    public async Task<JobResult> RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        var keepDays = context.Parameters.ValueKind == JsonValueKind.Object
                       && context.Parameters.TryGetProperty("keep_days", out var days) && days.TryGetInt32(out var d) ? d : DefaultKeepDays;
        var cutoff = Timestamp.From(clock.GetUtcNow().AddDays(-keepDays));

        await using var db = database.Create();
        // The chain's own transaction (on PostgreSQL under its lock), so no appender links a row to one deleted here.
        await using var tx = await AuditChain.BeginAppendAsync(db, cancellationToken);
        // Rows are appended in time order, so everything up to the newest row older than the cutoff goes.
        var last = await db.QuerySingleOrDefaultAsync<PrunePoint>(
            "SELECT id, hash FROM audit_log WHERE at < @cutoff ORDER BY id DESC LIMIT 1", new { cutoff }, tx);
        if (last is null) return JobResult.Skipped($"No audit events older than {keepDays} days.");

        var pruned = await db.ExecuteAsync("DELETE FROM audit_log WHERE id <= @id", new { id = last.Id }, tx);
        await chain.AppendAsync(db, tx, [new AuditEntry
        {
            At = Timestamp.Now(clock), Action = AuditChain.PrunedAction, TargetType = "audit_log", Outcome = "ok",
            Details = JsonSerializer.Serialize(new { through_id = last.Id, through_hash = last.Hash, pruned, keep_days = keepDays }),
        }]);
        await tx.CommitAsync(CancellationToken.None);
        return JobResult.Ok($"Pruned {pruned} audit events through id {last.Id}.");
    }

    private sealed record PrunePoint
    {
        public long Id { get; init; }
        public required string Hash { get; init; }
    }
}
