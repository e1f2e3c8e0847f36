using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Status;

namespace Sanctum.Api.Alerts;

/// <summary>
/// Every Sanctum:Alerts:PollInterval: reads the sources (status_history and the current statuses, job_runs, the audit
/// chain, the disk) for each enabled rule, records each new event once per rule (alert_events' unique key, so several
/// instances on one database record it once) with a pending delivery per channel, then claims due deliveries (an
/// UPDATE ... RETURNING that skips rows another instance holds) and sends them, retrying with doubling waits.
/// </summary>
public sealed partial class AlertEngine(
    Database database, AlertSender sender, AlertChannels channels, SystemFigures figures, TimeProvider clock,
    Audit.AuditChain chain, IOptions<SanctumOptions> options, ILogger<AlertEngine> logger) : BackgroundService
{
    private const int MaxClaim = 20;
    private readonly AlertOptions _options = options.Value.Alerts;
    private DateTimeOffset _lastAuditCheck = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled) return;
        using var timer = new PeriodicTimer(_options.PollInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await RunOnceAsync(stoppingToken); }
                catch (Exception e) when (e is DbException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    LogRoundFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One round: detect, then send what is due. Returns the deliveries attempted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await DetectAsync(cancellationToken);
        return await DispatchAsync(cancellationToken);
    }

    private sealed record RuleRow(long Id, string Name, string Event, string Kinds, string Statuses, long GraceSeconds, string CreatedAt);

    private sealed record EntityRow(string Kind, string EntityId, string Name, string Status);

    private sealed record EpisodeRow(long Id, string At, string? OldStatus, string NewStatus, string? Reason);

    private sealed record OpenEvent(long Id, string EventKey, string EntityKind, string EntityId, string Payload);

    private sealed record FailedRun(long Id, long JobId, string Name, string Kind, string Trigger, string? Message, string FinishedAt);

    public async Task DetectAsync(CancellationToken cancellationToken)
    {
        await using var db = database.Open();
        var rules = (await db.QueryAsync<RuleRow>("SELECT id, name, event, kinds, statuses, grace_seconds, created_at FROM alert_rules WHERE enabled = TRUE ORDER BY id")).AsList();
        if (rules.Count == 0) return;
        var now = clock.GetUtcNow();
        List<EntityRow>? entities = null;
        foreach (var rule in rules)
        {
            switch (rule.Event)
            {
                case "status":
                    entities ??= (await db.QueryAsync<EntityRow>("""
                        SELECT 'tool' AS kind, id AS entity_id, name, status FROM tools WHERE is_enabled = TRUE
                        UNION ALL SELECT 'agent', id, name, status FROM agents WHERE is_active = TRUE
                        UNION ALL SELECT 'instance', CAST(id AS TEXT), name, status FROM tool_instances WHERE is_active = TRUE
                        """)).AsList();
                    await DetectStatusAsync(db, rule, entities, now, cancellationToken);
                    break;
                case "job.failed" or "backup.failed":
                    await DetectJobsAsync(db, rule, now, cancellationToken);
                    break;
                case "audit.broken":
                    if (now - _lastAuditCheck < _options.AuditCheckInterval) break;
                    _lastAuditCheck = now;
                    await Task.Yield();
                    var verification = chain.Verify(db, null);
                    if (!verification.Ok)
                        await RecordAsync(db, rule, $"audit.broken:{verification.FirstBadId}", "audit.broken", null, new AlertPayload("audit.broken",
                            $"The audit log failed verification at row {verification.FirstBadId}", Timestamp.From(now), null, null, null,
                            $"{verification.Checked} rows checked; row {verification.FirstBadId} was changed, removed or reordered."), cancellationToken);
                    break;
                case "disk.low":
                    var disk = figures.LastDisk;
                    if (disk.Low)
                        await RecordAsync(db, rule, $"disk.low:{now.UtcDateTime:yyyy-MM-dd}", "disk.low", null, new AlertPayload("disk.low",
                            $"Low disk: {disk.FreeBytes / (1024 * 1024)} MB free under {disk.Path}", Timestamp.From(now), null, null, null,
                            $"Free space is below {disk.LowBelowBytes / (1024 * 1024)} MB (Sanctum:System:LowDiskBytes)."), cancellationToken);
                    break;
            }
        }
    }

    // An entity alerts once it has been in one of the rule's statuses for grace_seconds without a break; the event is the
    // status_history row where that stretch began, so a flap that ends within the grace period never alerts, and a
    // stretch alerts once however many rounds (or instances) see it. Back to Healthy resolves it.
    private async Task DetectStatusAsync(DbConnection db, RuleRow rule, List<EntityRow> entities, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var kinds = Parse(rule.Kinds, AlertNames.Kinds);
        var statuses = Parse(rule.Statuses, AlertNames.Statuses);
        var graceEnd = Timestamp.From(now - TimeSpan.FromSeconds(rule.GraceSeconds));
        foreach (var entity in entities.Where(e => kinds.Contains(e.Kind) && statuses.Contains(e.Status)))
        {
            var inStatuses = SqlDialect.Of(db).InList("@statuses");
            var start = await db.QueryFirstOrDefaultAsync<EpisodeRow>($"""
                SELECT id, at, old_status, new_status, reason FROM status_history
                WHERE kind = @Kind AND entity_id = @EntityId AND new_status {inStatuses} AND (old_status IS NULL OR NOT (old_status {inStatuses}))
                ORDER BY id DESC LIMIT 1
                """, new { entity.Kind, entity.EntityId, statuses = statuses.ToArray() });
            if (start is null || string.CompareOrdinal(start.At, graceEnd) > 0) continue;
            await RecordAsync(db, rule, $"status:{entity.Kind}:{entity.EntityId}:{start.Id}", "status", entity, new AlertPayload("status",
                $"{Capital(entity.Kind)} {entity.Name} is {entity.Status}", start.At, new AlertEntity(entity.Kind, entity.EntityId, entity.Name),
                start.OldStatus, entity.Status, start.Reason), cancellationToken);
        }
        var open = await db.QueryAsync<OpenEvent>(
            "SELECT id, event_key, entity_kind, entity_id, payload FROM alert_events WHERE rule_id = @Id AND event = 'status' AND resolved_at IS NULL", new { rule.Id });
        foreach (var e in open)
        {
            if (entities.FirstOrDefault(x => x.Kind == e.EntityKind && x.EntityId == e.EntityId) is not { Status: "Healthy" } entity) continue;
            var was = JsonSerializer.Deserialize<AlertPayload>(e.Payload, AlertSender.Json);
            await using var tx = await db.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            // Whoever marks it resolved first sends the resolution.
            if (await db.ExecuteAsync("UPDATE alert_events SET resolved_at = @now WHERE id = @Id AND resolved_at IS NULL", new { now = Timestamp.From(now), e.Id }, tx) == 1)
                await InsertAsync(db, tx, rule, "resolved:" + e.EventKey, "status.resolved", entity, new AlertPayload("status.resolved",
                    $"{Capital(entity.Kind)} {entity.Name} is Healthy again", Timestamp.From(now), new AlertEntity(entity.Kind, entity.EntityId, entity.Name),
                    was?.ToStatus, "Healthy", null));
            await tx.CommitAsync(cancellationToken);
        }
    }

    private async Task DetectJobsAsync(DbConnection db, RuleRow rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var backups = rule.Event == "backup.failed";
        var failed = await db.QueryAsync<FailedRun>($"""
            SELECT r.id, r.job_id, j.name, j.kind, r.trigger, r.message, r.finished_at FROM job_runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.outcome = 'failed' AND r.finished_at >= @since {(backups ? "AND j.kind = 'backup' AND r.trigger <> 'manual'" : "")}
              AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.rule_id = @Id AND e.event_key = @prefix || CAST(r.id AS TEXT))
            ORDER BY r.id LIMIT 100
            """, new { rule.Id, since = rule.CreatedAt, prefix = rule.Event + ":" });
        foreach (var run in failed)
            await RecordAsync(db, rule, $"{rule.Event}:{run.Id}", rule.Event, null, new AlertPayload(rule.Event,
                backups ? $"Scheduled backup {run.Name} failed" : $"Job {run.Name} failed", run.FinishedAt,
                new AlertEntity("job", run.JobId.ToString(CultureInfo.InvariantCulture), run.Name), null, "failed",
                $"Run {run.Id} ({run.Kind}, {run.Trigger}): {run.Message}"), cancellationToken);
    }

    private async Task RecordAsync(DbConnection db, RuleRow rule, string key, string @event, EntityRow? entity, AlertPayload payload, CancellationToken cancellationToken)
    {
        try
        {
            await using var tx = await db.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            await InsertAsync(db, tx, rule, key, @event, entity, payload);
            await tx.CommitAsync(cancellationToken);
        }
        catch (DbException e) when (DbErrors.Classify(e).Kind is DbErrorKind.Busy or DbErrorKind.UniqueViolation or DbErrorKind.ForeignKeyViolation)
        {
            // Another instance recorded the same event at the same moment: it is theirs to send.
        }
    }

    private async Task InsertAsync(DbConnection db, DbTransaction tx, RuleRow rule, string key, string @event, EntityRow? entity, AlertPayload payload)
    {
        var now = Timestamp.Now(clock);
        var id = await db.ExecuteScalarAsync<long?>("""
            INSERT INTO alert_events (rule_id, event_key, event, payload, entity_kind, entity_id, created_at)
            VALUES (@ruleId, @key, @event, @payload, @kind, @entityId, @now)
            ON CONFLICT (rule_id, event_key) DO NOTHING RETURNING id
            """, new { ruleId = rule.Id, key, @event, payload = JsonSerializer.Serialize(payload, AlertSender.Json), kind = entity?.Kind, entityId = entity?.EntityId, now }, tx);
        if (id is null) return;
        var queued = await db.ExecuteAsync("""
            INSERT INTO alert_deliveries (event_id, channel_id, next_attempt_at, created_at)
            SELECT @id, rc.channel_id, @now, @now FROM alert_rule_channels rc JOIN alert_channels c ON c.id = rc.channel_id
            WHERE rc.rule_id = @ruleId AND c.enabled = TRUE
            """, new { id, ruleId = rule.Id, now }, tx);
        LogEvent(logger, rule.Id, rule.Name, key, payload.Summary, queued);
    }

    private sealed record Claimed(long Id, long EventId, long ChannelId, long Attempts);

    /// <summary>Claims the due deliveries (none another instance holds) and sends them, a few at once.</summary>
    public async Task<int> DispatchAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        List<Claimed> claimed;
        await using (var db = database.Open())
        {
            await using var tx = await db.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            claimed = (await db.QueryAsync<Claimed>($"""
                UPDATE alert_deliveries SET lease_until = @until, attempts = attempts + 1
                WHERE id IN (SELECT id FROM alert_deliveries
                             WHERE status = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
                             ORDER BY id LIMIT @max{database.Dialect.SkipLocked})
                RETURNING id, event_id, channel_id, attempts
                """, new { now = Timestamp.From(now), until = Timestamp.From(now + _options.SendTimeout + TimeSpan.FromSeconds(30)), max = MaxClaim }, tx)).AsList();
            await tx.CommitAsync(cancellationToken);
        }
        await Parallel.ForEachAsync(claimed, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (delivery, token) => await SendAsync(delivery, token));
        return claimed.Count;
    }

    private async Task SendAsync(Claimed delivery, CancellationToken cancellationToken)
    {
        string? error;
        await using (var db = database.Open())
        {
            var payload = JsonSerializer.Deserialize<AlertPayload>(
                await db.ExecuteScalarAsync<string>("SELECT payload FROM alert_events WHERE id = @EventId", new { delivery.EventId }) ?? "{}", AlertSender.Json)!;
            var channel = await channels.ResolveAsync(db, delivery.ChannelId);
            error = channel is null ? "The channel's secret cannot be read with this install's keys."
                : await sender.SendAsync(channel, payload, cancellationToken);
        }
        var now = clock.GetUtcNow();
        var wait = _options.RetryDelay * Math.Pow(2, Math.Min(delivery.Attempts - 1, 16));
        await using var write = database.Open();
        await write.ExecuteAsync("""
            UPDATE alert_deliveries SET lease_until = NULL, last_error = @error,
                status = CASE WHEN @error IS NULL THEN 'sent' WHEN attempts >= @max THEN 'failed' ELSE 'pending' END,
                sent_at = CASE WHEN @error IS NULL THEN @now ELSE sent_at END,
                next_attempt_at = CASE WHEN @error IS NULL THEN next_attempt_at ELSE @next END
            WHERE id = @Id
            """, new { delivery.Id, error, max = _options.MaxAttempts, now = Timestamp.From(now), next = Timestamp.From(now + wait) });
        if (error is null) LogSent(logger, delivery.Id, delivery.ChannelId, delivery.Attempts);
        else LogSendFailed(logger, delivery.Id, delivery.ChannelId, delivery.Attempts, error);
    }

    private static HashSet<string> Parse(string json, string[] all)
    {
        var values = JsonSerializer.Deserialize<string[]>(json) ?? [];
        return values.Length == 0 ? [.. all] : [.. values];
    }

    private static string Capital(string kind) => char.ToUpperInvariant(kind[0]) + kind[1..];

    [LoggerMessage(EventId = 9300, Level = LogLevel.Warning, Message = "Alert rule {RuleId} ({RuleName}): {EventKey}: {Summary}; {Deliveries} deliveries queued")]
    private static partial void LogEvent(ILogger logger, long ruleId, string ruleName, string eventKey, string summary, int deliveries);

    [LoggerMessage(EventId = 9301, Level = LogLevel.Information, Message = "Alert delivery {DeliveryId} sent through channel {ChannelId} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, long deliveryId, long channelId, long attempt);

    [LoggerMessage(EventId = 9302, Level = LogLevel.Warning, Message = "Alert delivery {DeliveryId} through channel {ChannelId} failed (attempt {Attempt}): {Error}")]
    private static partial void LogSendFailed(ILogger logger, long deliveryId, long channelId, long attempt, string error);

    [LoggerMessage(EventId = 9303, Level = LogLevel.Warning, Message = "A round of alerts failed; the next round tries again")]
    private static partial void LogRoundFailed(ILogger logger, Exception error);
}
