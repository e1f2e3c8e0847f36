using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs;

/// <summary>The job request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class JobExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(JobWrite)] = new JobWrite { Name = "Nightly backup", Kind = "backup", Schedule = "0 3 * * *", Enabled = true, Params = RequestExamples.Json(new { keep = 7 }) },
    };
}
