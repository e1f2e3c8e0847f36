using System.Data;
using System.Globalization;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Events;

namespace Sanctum.Api.Health;

/// <summary>What a tool, instance or agent's status becomes: its label, where it came from and why.</summary>
/// <param name="Since">When the status began; null: now if the label changes, else unchanged.</param>
public sealed record StatusUpdate(string Status, string Source, string? Reason, string? Since = null);

/// <summary>A status as stored, with the ids that decide who may see it.</summary>
public sealed record StatusState
{
    public required string Status { get; init; }
    public required string StatusSource { get; init; }
    public string? StatusSince { get; init; }
    public string? StatusReason { get; init; }
    public string? ToolId { get; init; }
    public string? AgentId { get; init; }
}

/// <summary>
/// The one place a tool's, tool instance's or agent's status changes (admins by hand, health checks, relay presence):
/// it sets status, source, since and reason inside the caller's transaction, records one <c>status.changed</c> audit
/// event when the label changes (details: from, to, source, reason, tool_id for instances) and raises one
/// <c>status.changed</c> live event on the <c>status</c> topic when the transaction commits through
/// <see cref="Committed"/>. status_history rows come from the triggers on the status column.
/// </summary>
public sealed class StatusWriter(AuditLog audit, IEventPublisher events, TimeProvider clock)
{
    public const string Tool = "tool", Instance = "instance", Agent = "agent";
    public const string Topic = "status", EventName = "status.changed";

    /// <summary>Who set a status: an admin (manual), a health check, or the chat relay's polls.</summary>
    public static readonly string[] Sources = ["manual", "check", "relay"];

    /// <summary>
    /// Writes <paramref name="update"/> to <paramref name="kind"/> <paramref name="id"/> when it differs from what is
    /// stored; returns the status after it, or null when there is no such row.
    /// </summary>
    public async Task<StatusState?> SetAsync(IDbConnection db, IDbTransaction tx, string kind, string id, StatusUpdate update,
        HttpContext? http = null, DateTimeOffset? at = null)
    {
        var (table, extra) = kind switch
        {
            Tool => ("tools", "NULL AS tool_id, category AS agent_id"),
            Instance => ("tool_instances", "tool_id, coalesce(agent_id, (SELECT category FROM tools WHERE tools.id = tool_id)) AS agent_id"),
            Agent => ("agents", "NULL AS tool_id, id AS agent_id"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "tool, instance or agent"),
        };
        object key = kind == Instance ? long.Parse(id, CultureInfo.InvariantCulture) : id;
        var before = await db.QuerySingleOrDefaultAsync<StatusState>(
            $"SELECT status, status_source, status_since, status_reason, {extra} FROM {table} WHERE id = @key", new { key }, tx);
        if (before is null) return null;
        var since = update.Since ?? (before.Status == update.Status ? before.StatusSince : Timestamp.From(at ?? clock.GetUtcNow()));
        var after = before with { Status = update.Status, StatusSource = update.Source, StatusReason = update.Reason, StatusSince = since };
        if (after == before) return before;

        await db.ExecuteAsync($"UPDATE {table} SET status = @Status, status_source = @StatusSource, status_reason = @StatusReason, status_since = @StatusSince WHERE id = @key",
            new { after.Status, after.StatusSource, after.StatusReason, after.StatusSince, key }, tx);
        if (after.Status != before.Status)
            await audit.RecordAsync(new AuditEvent(EventName, kind, id, new StatusChanged(before.Status, after.Status, after.StatusSource, after.StatusReason, after.ToolId)),
                http, db, tx);
        // Tools name their agent through their category (AgentVisibility.ToolVisible); an instance through both.
        events.PublishOnCommit(tx, Topic, EventName, new StatusEvent(kind, id, before.Status, after.Status, after.StatusSource, after.StatusReason,
            after.StatusSince, after.ToolId), new EventAudience(AgentId: after.AgentId));
        return after;
    }

    /// <summary>Raises the live events of the status changes made in <paramref name="tx"/>: call it right after committing it.</summary>
    public void Committed(IDbTransaction tx)
    {
        events.Committed(tx);
        audit.Committed();
    }

    /// <summary>The details of every status.changed audit event.</summary>
    private sealed record StatusChanged(string From, string To, string Source, string? Reason, string? ToolId);
}

/// <summary>The data of a <c>status.changed</c> live event.</summary>
public sealed record StatusEvent(string Kind, string Id, string From, string To, string Source, string? Reason, string? Since, string? ToolId);
