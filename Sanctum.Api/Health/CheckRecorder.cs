using System.Data;
using Dapper;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;
using Sanctum.Api.Telemetry;

namespace Sanctum.Api.Health;

/// <summary>
/// Turns probe results into statuses, inside the caller's write transaction: the instance's status and check state,
/// one health_check_results row, the tool's status (the worst of its active instances once one of them is checked),
/// and a <c>status.changed</c> audit event for each status that changed. status_history rows come from the triggers.
/// </summary>
public sealed class CheckRecorder(IOptions<InstanceCheckOptions> options, StatusWriter status, SanctumMetrics metrics)
{
    /// <summary>The instance as it is after the result, or null when it has no check any more.</summary>
    public async Task<InstanceCheckState?> ApplyAsync(IDbConnection db, IDbTransaction tx, long instanceId, string type, ProbeResult result, DateTimeOffset at)
    {
        metrics.CheckResult(type, result.Ok, result.LatencyMs);
        var before = await db.QuerySingleOrDefaultAsync<InstanceCheckState>(
            $"SELECT {InstanceCheckState.Columns} FROM tool_instances WHERE id = @instanceId AND health_check IS NOT NULL AND is_active = TRUE",
            new { instanceId }, tx);
        if (before is null) return null; // removed, disabled or deleted while the probe ran

        var o = options.Value;
        var spec = HealthCheckSpec.FromJson(before.HealthCheck);
        var failures = result.Ok ? 0 : before.CheckFailures + 1;
        var (newStatus, reason) = result switch
        {
            { Status: { } named } => (named, result.Reason ?? result.Error ?? named),
            { Ok: true, Warning: { } warning } => ("Degraded", $"Answered in {result.LatencyMs} ms but reports a problem: {warning}"),
            { Ok: true } when result.LatencyMs > o.DegradedLatencyMs => ("Degraded", $"Slow: answered in {result.LatencyMs} ms (over {o.DegradedLatencyMs} ms)."),
            { Ok: true } => ("Healthy", $"Check passed in {result.LatencyMs} ms."),
            { Off: true } => ("Off", $"Check failed: {result.Error}"),
            _ when failures >= o.OffAfterFailures => ("Off", $"{failures} failed checks in a row: {result.Error}"),
            _ => ("Degraded", $"Check failed ({failures} in a row): {result.Error}"),
        };
        var now = Timestamp.From(at);
        var after = await db.QuerySingleAsync<InstanceCheckState>($"""
            UPDATE tool_instances SET check_failures = @failures, last_check_at = @now, last_check_ok = @ok, last_check_latency_ms = @latency,
                last_check_error = @error, next_check_at = @next
            WHERE id = @instanceId
            RETURNING {InstanceCheckState.Columns}
            """,
            new
            {
                instanceId, now, failures, ok = result.Ok, latency = result.LatencyMs, error = result.Error,
                next = Timestamp.From(at.AddSeconds(spec.IntervalSeconds)),
            }, tx);
        await db.ExecuteAsync("INSERT INTO health_check_results (instance_id, at, ok, latency_ms, error) VALUES (@instanceId, @now, @ok, @latency, @error)",
            new { instanceId, now, ok = result.Ok, latency = result.LatencyMs, error = result.Error }, tx);

        var set = await status.SetAsync(db, tx, StatusWriter.Instance, instanceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new StatusUpdate(newStatus, "check", reason), at: at);
        await UpdateToolAsync(db, tx, after.ToolId, at);
        return after with { Status = set?.Status ?? newStatus };
    }

    /// <summary>
    /// Gives tool @toolId the worst status of its active instances when at least one of them is checked (source check);
    /// otherwise a tool whose status came from checks goes back to manual, keeping its last status.
    /// </summary>
    public async Task UpdateToolAsync(IDbConnection db, IDbTransaction tx, string toolId, DateTimeOffset at)
    {
        var tool = await db.QuerySingleOrDefaultAsync<ToolState>("""
            SELECT t.status, t.status_source,
                   (SELECT CASE max(CASE i.status WHEN 'Off' THEN 3 WHEN 'Degraded' THEN 2 WHEN 'Ready' THEN 1 ELSE 0 END)
                               WHEN 3 THEN 'Off' WHEN 2 THEN 'Degraded' WHEN 1 THEN 'Ready' ELSE 'Healthy' END
                    FROM tool_instances i WHERE i.tool_id = t.id AND i.is_active = TRUE
                    HAVING COUNT(i.health_check) > 0) AS worst
            FROM tools t WHERE t.id = @toolId
            """, new { toolId }, tx);
        if (tool is null) return;
        if (tool.Worst is null)
        {
            if (tool.StatusSource == "check") await status.SetAsync(db, tx, StatusWriter.Tool, toolId, new StatusUpdate(tool.Status, "manual", null), at: at);
            return;
        }
        if (tool.Worst == tool.Status && tool.StatusSource == "check") return; // unchanged: no write, the tools cache stays warm
        var reason = tool.Worst == "Healthy" ? "Every active instance is Healthy." : $"The worst of its active instances is {tool.Worst}.";
        await status.SetAsync(db, tx, StatusWriter.Tool, toolId, new StatusUpdate(tool.Worst, "check", reason), at: at);
    }

    private sealed record ToolState
    {
        public required string Status { get; init; }
        public required string StatusSource { get; init; }
        public string? Worst { get; init; }
    }
}

/// <summary>The check-related columns of one instance.</summary>
public sealed record InstanceCheckState
{
    public const string Columns = "id, tool_id, status, health_check, check_failures, is_active";

    public long Id { get; init; }
    public required string ToolId { get; init; }
    public required string Status { get; init; }
    public required string HealthCheck { get; init; }
    public long CheckFailures { get; init; }
    public bool IsActive { get; init; }
}
