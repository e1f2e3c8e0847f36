using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Health;

/// <summary>
/// Probes the due checks of active instances, at most <see cref="InstanceCheckOptions.Concurrency"/> at once, and stores
/// each round's results in one write transaction (<see cref="CheckRecorder"/>).
/// </summary>
public sealed partial class HealthCheckRunner(
    Database database, HealthProbe probe, CheckRecorder recorder, StatusWriter status, TimeProvider clock,
    IOptions<InstanceCheckOptions> options, ILogger<HealthCheckRunner> logger) : BackgroundService
{
    private const int MaxPerRound = 200;
    private DateTimeOffset _lastPrune;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled) return;
        using var timer = new PeriodicTimer(o.PollInterval, clock);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is DbException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, e);
            }
        } while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try { return await timer.WaitForNextTickAsync(stoppingToken); }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>How long a claimed check is left to the instance that claimed it before another may probe it.</summary>
    public static readonly TimeSpan ClaimLength = TimeSpan.FromMinutes(2);

    /// <summary>One round: probe every check that is due now and store the results. Returns how many ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        List<DueCheck> due;
        await using (DbConnection db = database.Open())
        {
            // Claimed, not just read: next_check_at moves past the probes' time in the same statement, so with several
            // instances on one database each due check is probed by one of them; a crashed claimer's claim runs out.
            // Read committed: on PostgreSQL concurrent rounds skip each other's rows instead of conflicting.
            await using var claim = await db.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            due = (await db.QueryAsync<DueCheck>($"""
                UPDATE tool_instances SET next_check_at = @claimedUntil
                WHERE id IN (SELECT id FROM tool_instances
                             WHERE health_check IS NOT NULL AND is_active = TRUE AND (next_check_at IS NULL OR next_check_at <= @now)
                             ORDER BY coalesce(next_check_at, '') LIMIT @max{database.Dialect.SkipLocked})
                RETURNING id, health_check
                """, new { now = Timestamp.From(now), max = MaxPerRound, claimedUntil = Timestamp.From(now + ClaimLength) }, claim)).AsList();
            await claim.CommitAsync(cancellationToken);
        }
        if (due.Count > 0)
        {
            var results = new (DueCheck Check, HealthCheckSpec Spec, ProbeResult Result, DateTimeOffset At)[due.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, due.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Value.Concurrency), CancellationToken = cancellationToken },
                async (i, token) =>
                {
                    // The probe's lines carry the instance's id (GET /api/logs?instance_id=).
                    using var scope = logger.BeginScope(new Dictionary<string, object> { [Logs.LogStoreProvider.InstanceScope] = due[i].Id });
                    var spec = HealthCheckSpec.FromJson(due[i].HealthCheck);
                    var result = await probe.RunAsync(spec, due[i].Id, token);
                    if (!result.Ok) LogCheckFailed(logger, due[i].Id, spec.Type, result.Error);
                    results[i] = (due[i], spec, result, clock.GetUtcNow());
                });

            await using DbConnection db = database.Open();
            await using var tx = await db.BeginTransactionAsync(cancellationToken);
            foreach (var (check, spec, result, at) in results) await recorder.ApplyAsync(db, tx, check.Id, spec.Type, result, at);
            await tx.CommitAsync(cancellationToken);
            status.Committed(tx);
        }
        await PruneResultsAsync(now);
        return due.Count;
    }

    private async Task PruneResultsAsync(DateTimeOffset now)
    {
        if (now - _lastPrune < TimeSpan.FromHours(1)) return;
        _lastPrune = now;
        await using DbConnection db = database.Open();
        await db.ExecuteAsync("DELETE FROM health_check_results WHERE at < @cutoff", new { cutoff = Timestamp.From(now - options.Value.ResultRetention) });
    }

    private sealed record DueCheck
    {
        public long Id { get; init; }
        public required string HealthCheck { get; init; }
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Health check of instance {InstanceId} ({CheckType}) failed: {Error}")]
    private static partial void LogCheckFailed(ILogger logger, long instanceId, string checkType, string? error);

    [LoggerMessage(EventId = 9100, Level = LogLevel.Warning, Message = "A round of health checks failed; the next round tries again")]
    private static partial void LogRoundFailed(ILogger logger, Exception error);
}
