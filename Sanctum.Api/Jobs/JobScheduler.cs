using Dapper;
using Sanctum.Api.Data;

namespace Sanctum.Api.Jobs;

/// <summary>
/// Starts due jobs: on start-up (a job whose next run passed while the service was down runs once, as <c>missed</c>),
/// then whenever the earliest next run comes, looking again at least every <see cref="MaxSleep"/> so edits made by
/// another process are seen. Each occurrence is claimed in the database (<see cref="JobRunner.TryStart"/>), so two
/// processes on one database never both run it.
/// </summary>
public sealed class JobScheduler(Database database, JobRunner runner, JobSchedule schedule, TimeProvider clock, ILogger<JobScheduler> logger)
    : BackgroundService
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(30);

    /// <summary>A run whose time passed by more than this when it starts is reported as missed.</summary>
    private static readonly TimeSpan Late = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan sleep;
            try
            {
                sleep = Tick(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "The job scheduler could not look for due jobs.");
                sleep = MaxSleep;
            }
            try { await Task.Delay(sleep, clock, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
        await runner.WhenIdleAsync();
    }

    /// <summary>Plans unplanned jobs, starts the due ones (in the background) and returns how long to sleep.</summary>
    public TimeSpan Tick(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var nowText = Timestamp.From(now);
        using var db = database.Open();
        foreach (var job in db.Query<(long Id, string Schedule)>("SELECT id, schedule FROM jobs WHERE enabled = TRUE AND next_run_at IS NULL").ToList())
            db.Execute("UPDATE jobs SET next_run_at = @next WHERE id = @id AND enabled = TRUE AND next_run_at IS NULL",
                new { id = job.Id, next = NextText(job.Schedule, now) });

        var due = db.Query<(long Id, string Schedule, string NextRunAt)>(
            "SELECT id, schedule, next_run_at FROM jobs WHERE enabled = TRUE AND next_run_at <= @now ORDER BY next_run_at, id", new { now = nowText }).ToList();
        foreach (var job in due)
        {
            var trigger = Timestamp.Parse(job.NextRunAt) < now - Late ? "missed" : "schedule";
            if (runner.TryStart(job.Id, trigger, job.NextRunAt, NextText(job.Schedule, now)) is { } run)
                runner.RunInBackground(run, cancellationToken);
        }

        var earliest = db.ExecuteScalar<string?>("SELECT MIN(next_run_at) FROM jobs WHERE enabled = TRUE");
        var until = earliest is null ? MaxSleep : Timestamp.Parse(earliest) - now;
        return until < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : until > MaxSleep ? MaxSleep : until;
    }

    private string? NextText(string expression, DateTimeOffset after)
    {
        try
        {
            return schedule.Next(expression, after) is { } next ? Timestamp.From(next) : null;
        }
        catch (Cronos.CronFormatException)
        {
            return null; // stored before this build's rules: it waits until someone fixes the schedule
        }
    }
}
