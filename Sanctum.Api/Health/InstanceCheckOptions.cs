namespace Sanctum.Api.Health;

/// <summary>The <c>Sanctum:HealthChecks</c> section: how the runner probes instances and turns results into statuses.</summary>
public sealed class InstanceCheckOptions
{
    public const string Section = "Sanctum:HealthChecks";

    /// <summary>Turns the runner off (checks still run through POST .../check).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the runner looks for due checks.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Probes in flight at once.</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>A passing probe slower than this makes the instance Degraded.</summary>
    public int DegradedLatencyMs { get; set; } = 1_000;

    /// <summary>Failures in a row that turn an instance Off (fewer make it Degraded).</summary>
    public int OffAfterFailures { get; set; } = 3;

    /// <summary>How long each probe's result is kept in health_check_results.</summary>
    public TimeSpan ResultRetention { get; set; } = TimeSpan.FromDays(7);
}
