using System.Text.Json;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs.Kinds;

/// <summary><c>purge-sessions</c>: deletes expired sign-in sessions (they already no longer sign anyone in).</summary>
public sealed class PurgeSessionsJob(Database database, TimeProvider clock) : IJobKind
{
    public string Kind => "purge-sessions";

    public string Description => "Delete expired sign-in sessions; no params";

    public void Validate(JsonElement parameters, Errors errors) => JobParams.OnlyKnown(parameters, errors);

    public Task<JobResult> RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        using var db = database.Open();
        var removed = db.Execute("DELETE FROM user_sessions WHERE expires_at <= @now", new { now = Timestamp.Now(clock) });
        return Task.FromResult(JobResult.Ok($"Removed {removed} expired session(s)."));
    }
}
