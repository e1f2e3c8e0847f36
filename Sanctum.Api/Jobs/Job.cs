using System.Text.Json;
using System.Text.Json.Nodes;
using System.ComponentModel.DataAnnotations;

using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs;

/// <summary>A scheduled job as the API shows it.</summary>
public sealed record Job
{
    public const string Columns = "id, name, kind, schedule, enabled, params, next_run_at, lease_until, created_at, updated_at";

    public long Id { get; init; }
    [MaxLength(JobsApi.MaxName)]
    public required string Name { get; init; }
    [MaxLength(50), RegularExpression(FieldChecks.SlugPattern)]
    public required string Kind { get; init; }
    /// <summary>5-field cron: minute hour day-of-month month day-of-week.</summary>
    [MaxLength(JobSchedule.MaxLength)]
    public required string Schedule { get; init; }
    /// <summary>The schedule in words, with the time zone it is read in.</summary>
    [MaxLength(500)]
    public string? ScheduleText { get; init; }
    public bool Enabled { get; init; }
    public JsonNode? Params { get; init; }
    /// <summary>When the scheduler runs it next (null while paused).</summary>
    public string? NextRunAt { get; init; }
    /// <summary>True while a run holds the job's lease.</summary>
    public bool Running { get; init; }
    public JobRun? LastRun { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public string? LeaseUntil { get; init; }
}

/// <summary>One run of a job: <c>outcome</c> is null while it runs, then ok, failed or skipped.</summary>
public sealed record JobRun
{
    public const string Columns = "id, job_id, trigger, started_at, finished_at, outcome, message, duration_ms";

    public long Id { get; init; }
    public long JobId { get; init; }
    /// <summary>schedule, missed (it was due while the service was down) or manual.</summary>
    [OneOf("schedule", "missed", "manual")]
    public required string Trigger { get; init; }
    public required string StartedAt { get; init; }
    public string? FinishedAt { get; init; }
    /// <summary>ok or failed; null while it runs.</summary>
    [MaxLength(20)]
    public string? Outcome { get; init; }
    [MaxLength(JobRunner.MaxMessage)]
    public string? Message { get; init; }
    public long? DurationMs { get; init; }
}

/// <summary>The body of POST /api/jobs (name, kind and schedule required) and PATCH /api/jobs/{id} (the fields present change).</summary>
public sealed record JobWrite
{
    /// <summary>1 to 100 characters, unique regardless of case.</summary>
    [Text(JobsApi.MaxName, NotBlank = true, SingleLine = true)]
    public string? Name { get; init; }
    /// <summary>One of GET /api/jobs/kinds.</summary>
    [Text(50), Pattern(FieldChecks.SlugPattern, "Must be one of GET /api/jobs/kinds.")]
    public string? Kind { get; init; }
    /// <summary>5-field cron, e.g. <c>0 3 * * *</c> (03:00 every day), read in Sanctum:TimeZone.</summary>
    [Text(JobSchedule.MaxLength)]
    public string? Schedule { get; init; }
    public bool? Enabled { get; init; }
    /// <summary>The kind's parameters, an object (backup: keep; chat-retention: days).</summary>
    public JsonElement? Params { get; init; }
}

/// <summary>A kind of job this build can run, with the params it takes.</summary>
public sealed record JobKindInfo(
    [property: MaxLength(50), RegularExpression(FieldChecks.SlugPattern)] string Kind, [property: MaxLength(500)] string Description,
    [property: MaxLength(20)] IReadOnlyList<JobParam> Params);

/// <summary>A schedule read back: in words, and its next runs (UTC).</summary>
public sealed record SchedulePreview([property: MaxLength(300)] string ScheduleText, [property: MaxLength(JobsApi.PreviewRuns)] IReadOnlyList<string> NextRuns);
