using System.Text.Json;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs;

/// <summary>
/// A kind of scheduled job (<c>backup</c>, <c>purge-sessions</c>, <c>chat-retention</c>, <c>audit-retention</c>, ...).
/// Each feature registers its kinds with <c>services.AddSingleton&lt;IJobKind, TheKind&gt;()</c>; the scheduler
/// (#11) finds them all, validates a job's params with <see cref="Validate"/> and runs it with <see cref="RunAsync"/>.
/// </summary>
public interface IJobKind
{
    /// <summary>The stored <c>kind</c> value, lower-case with dashes.</summary>
    string Kind { get; }

    /// <summary>One line for the page and the API.</summary>
    string Description { get; }

    /// <summary>The params it takes, for a form to show as fields (none unless the kind says).</summary>
    IReadOnlyList<JobParam> Params => [];

    /// <summary>Adds errors keyed <c>params.&lt;name&gt;</c> for invalid params (an absent object is <c>{}</c>).</summary>
    void Validate(JsonElement parameters, Errors errors);

    Task<JobResult> RunAsync(JobRunContext context, CancellationToken cancellationToken);
}

/// <summary>What one run of a job did: <c>ok</c>, <c>failed</c> or <c>skipped</c>, with a message for people.</summary>
public sealed record JobResult(string Outcome, string? Message = null)
{
    public static JobResult Ok(string? message = null) => new("ok", message);
    public static JobResult Failed(string message) => new("failed", message);
    public static JobResult Skipped(string message) => new("skipped", message);
}

public sealed record JobRunContext(long JobId, string JobName, JsonElement Parameters, IServiceProvider Services);

/// <summary>A whole-number param of a kind of job: its name, a label for people, its range and its value when absent (null: required).</summary>
public sealed record JobParam(
    [property: System.ComponentModel.DataAnnotations.MaxLength(50)] string Name, [property: System.ComponentModel.DataAnnotations.MaxLength(200)] string Label,
    int Minimum, int Maximum, int? Default)
{
    public bool Required => Default is null;
}
