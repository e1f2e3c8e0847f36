using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Health;

namespace Sanctum.Api.Status;

/// <summary>Status changes of tools, instances and agents (written by triggers on every status write), and availability.</summary>
public static class StatusHistoryApi
{
    public const int DefaultLimit = 100, MaxLimit = 1000, MaxHours = 24 * 31;
    public static readonly string[] Kinds = ["tool", "instance", "agent"];

    /// <summary>Statuses that count as available: working, or ready to work.</summary>
    public static readonly string[] Up = ["Healthy", "Ready"];

    public static RouteGroupBuilder MapStatusHistory(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/status").WithTags("Status").RequireReader();
        group.MapGet("/history", History).WithName("ListStatusHistory")
            .WithSummary("Status changes, newest first (at, old, new, source, reason); only agents the caller may see and their instances")
            .Paged(MaxLimit);
        group.MapGet("/availability", Availability).WithName("GetAvailability")
            .WithSummary("For each tool and visible agent: its status over the last hours (default 24) as segments, and the share of time it was Healthy or Ready");
        return group;
    }

    // An agent's rows, and those of the tools in its category and of its instances, only to those who may see the agent
    // (a tool since deleted stays visible: its category is no longer known).
    private static readonly string VisibleSql = $"""
        ((h.kind = 'tool' AND NOT EXISTS (SELECT 1 FROM tools vt WHERE vt.id = h.entity_id AND NOT {HiddenToolVisible}))
         OR (h.kind = 'agent' AND EXISTS (SELECT 1 FROM agents WHERE id = h.entity_id AND (is_active = TRUE OR @isAdmin) AND {AgentVisibility.Where}))
         OR (h.kind = 'instance' AND EXISTS (SELECT 1 FROM tool_instances i WHERE CAST(i.id AS TEXT) = h.entity_id
                AND (i.agent_id IS NULL OR EXISTS (SELECT 1 FROM agents WHERE id = i.agent_id AND {AgentVisibility.Where}))
                AND {AgentVisibility.ToolVisible("i.tool_id")})))
        """;

    private const string HiddenToolVisible = "(vt.category IS NULL OR @isAdmin OR NOT EXISTS (SELECT 1 FROM agents WHERE id = vt.category) "
        + "OR EXISTS (SELECT 1 FROM agents WHERE id = vt.category AND is_active = TRUE AND " + AgentVisibility.Where + "))";

    private const string NameSql = """
        CASE h.kind WHEN 'tool' THEN (SELECT name FROM tools WHERE id = h.entity_id)
                    WHEN 'agent' THEN (SELECT name FROM agents WHERE id = h.entity_id)
                    ELSE (SELECT coalesce(i.name, i.tool_id || ' #' || i.id) FROM tool_instances i WHERE CAST(i.id AS TEXT) = h.entity_id) END
        """;

    private static async Task<Results<Ok<IEnumerable<StatusChange>>, ValidationProblem>> History(
        DbConnection db, ClaimsPrincipal user, [OneOf(typeof(StatusHistoryApi), nameof(Kinds))] string? kind = null, string? id = null, DateTimeOffset? since = null, int? limit = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (id is not null && kind is null) errors.Add("kind", "Name the kind (tool, instance or agent) of the id.");
        if (errors.Any) return Problems.Invalid(errors);

        var parameters = new DynamicParameters(AgentVisibility.Parameters(user));
        parameters.AddDynamicParams(new { kind, id, since = since is { } s ? Timestamp.From(s) : null, limit = limit ?? DefaultLimit });
        var filters = new[]
        {
            kind is null ? null : "h.kind = @kind",
            id is null ? null : "h.entity_id = @id",
            since is null ? null : "h.at >= @since",
            VisibleSql,
        }.OfType<string>();
        return TypedResults.Ok(await db.QueryAsync<StatusChange>($"""
            SELECT h.id, h.at, h.kind, h.entity_id, {NameSql} AS name, h.old_status, h.new_status, h.source, h.reason
            FROM status_history h
            WHERE {string.Join(" AND ", filters)}
            ORDER BY h.id DESC LIMIT @limit
            """, parameters));
    }

    private static async Task<Results<Ok<IEnumerable<Availability>>, ValidationProblem>> Availability(
        DbConnection db, ClaimsPrincipal user, TimeProvider clock, int? hours = null)
    {
        if (hours is < 1 or > MaxHours) return Problems.Invalid("hours", $"Must be 1 to {MaxHours}.");
        var now = clock.GetUtcNow();
        var from = now.AddHours(-(hours ?? 24));
        var parameters = new DynamicParameters(AgentVisibility.Parameters(user));
        parameters.Add("since", Timestamp.From(from));

        var subjects = (await db.QueryAsync<Subject>($"""
            SELECT 'tool' AS kind, id, name, status, status_source FROM tools WHERE {AgentVisibility.Visible("category")}
            UNION ALL
            SELECT 'agent', id, name, status, status_source FROM agents WHERE (is_active = TRUE OR @isAdmin) AND {AgentVisibility.Where}
            """, parameters)).AsList();
        var polls = await RelayPresence.PollsAsync(db);
        // Per subject: the last change before the window (its status when the window opens) and every change inside it.
        var changes = (await db.QueryAsync<Change>("""
            SELECT h.kind, h.entity_id, h.at, h.old_status, h.new_status FROM status_history h
            WHERE h.kind IN ('tool', 'agent')
              AND (h.at >= @since OR h.id = (SELECT max(id) FROM status_history WHERE kind = h.kind AND entity_id = h.entity_id AND at < @since))
            ORDER BY h.id
            """, parameters)).ToLookup(c => (c.Kind, c.EntityId));

        return TypedResults.Ok(subjects.Select(s => Measure(s, changes[(s.Kind, s.Id)].ToList(), from, now, Signalled(s, polls))));
    }

    /// <summary>
    /// Whether anything measures the subject's status: a health check or relay polls. A status typed by hand, and an
    /// agent no relay has ever polled, have no signal, so no availability figure.
    /// </summary>
    private static bool Signalled(Subject s, Dictionary<string, RelayPresence.Poll> polls) =>
        s.StatusSource != RelayPresence.Manual
        && (s.Kind != "agent" || polls.ContainsKey(s.Id) || polls.ContainsKey(RelayPresence.AllAgents));

    private static Availability Measure(Subject subject, List<Change> changes, DateTimeOffset from, DateTimeOffset now, bool signalled)
    {
        var segments = new List<StatusSegment>();
        // The status when the window opens: set by the last change before it, or the one the first change left; a row
        // created inside the window starts at its creation (the first change has no old status).
        var start = from;
        string? status = subject.Status;
        var inside = changes.Where(c => Timestamp.Parse(c.At) >= from).ToList();
        var before = changes.LastOrDefault(c => Timestamp.Parse(c.At) < from);
        if (before is not null) status = before.NewStatus;
        else if (inside.Count > 0) status = inside[0].OldStatus;
        foreach (var change in inside)
        {
            var at = Timestamp.Parse(change.At);
            if (status is not null && at > start) segments.Add(new StatusSegment(Timestamp.From(start), Timestamp.From(at), status));
            (start, status) = (at > start ? at : start, change.NewStatus);
        }
        if (status is not null && now > start) segments.Add(new StatusSegment(Timestamp.From(start), Timestamp.From(now), status));

        var total = segments.Sum(Seconds);
        var up = segments.Where(s => Up.Contains(s.Status)).Sum(Seconds);
        return new Availability(subject.Kind, subject.Id, subject.Name, subject.Status, subject.StatusSource,
            !signalled ? null : total == 0 ? (Up.Contains(subject.Status) ? 100 : 0) : Math.Round(100 * up / total, 2), segments);

        static double Seconds(StatusSegment s) => (Timestamp.Parse(s.To) - Timestamp.Parse(s.From)).TotalSeconds;
    }

    private sealed record Subject
    {
        public required string Kind { get; init; }
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required string Status { get; init; }
        public required string StatusSource { get; init; }
    }

    private sealed record Change
    {
        public required string Kind { get; init; }
        public required string EntityId { get; init; }
        public required string At { get; init; }
        public string? OldStatus { get; init; }
        public required string NewStatus { get; init; }
    }
}

/// <summary>One status change: <c>old_status</c> is null for the status a row was created with.</summary>
public sealed record StatusChange
{
    public long Id { get; init; }
    public required string At { get; init; }
    /// <summary>tool, instance or agent.</summary>
    [OneOf(typeof(StatusHistoryApi), nameof(StatusHistoryApi.Kinds))]
    public required string Kind { get; init; }
    /// <summary>A tool's or agent's id, or an instance's number.</summary>
    [MaxLength(50)]
    public required string EntityId { get; init; }
    [MaxLength(200)]
    public string? Name { get; init; }
    public string? OldStatus { get; init; }
    public required string NewStatus { get; init; }
    /// <summary>manual, check or relay.</summary>
    [OneOf(typeof(StatusWriter), nameof(StatusWriter.Sources))]
    public required string Source { get; init; }
    public string? Reason { get; init; }
}

/// <summary>A status held from <c>from</c> until <c>to</c>.</summary>
public sealed record StatusSegment(string From, string To, [property: OneOf(typeof(HealthStatus))] string Status);

/// <summary>
/// A tool's or agent's status over the window: <c>percent</c> of the time it was Healthy or Ready; null when no
/// signal measures it (a status set by hand, or an agent no relay has polled yet).
/// </summary>
public sealed record Availability(
    [property: OneOf("tool", "agent")] string Kind, [property: MaxLength(50), RegularExpression(FieldChecks.SlugPattern)] string Id,
    [property: MaxLength(200)] string Name, [property: OneOf(typeof(HealthStatus))] string Status,
    [property: OneOf(typeof(StatusWriter), nameof(StatusWriter.Sources))] string StatusSource,
    [property: Range(0, 100)] double? Percent, IReadOnlyList<StatusSegment> Segments);
