using System.Text.Json;
using Sanctum.Api.Audit;
using Sanctum.Api.Backups;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs.Kinds;

/// <summary><c>backup</c>: a scheduled backup, keeping the newest <c>keep</c> scheduled ones (manual and pre-restore ones stay).</summary>
public sealed class BackupJob(BackupStore store, AuditLog audit) : IJobKind
{
    public const int DefaultKeep = 7, MaxKeep = 1000;

    public string Kind => "backup";

    public string Description => "Back up the database and key ring; params: keep (scheduled backups to retain, default 7)";

    public IReadOnlyList<JobParam> Params => [new("keep", "Scheduled backups to keep", 1, MaxKeep, DefaultKeep)];

    public void Validate(JsonElement parameters, Errors errors)
    {
        JobParams.OnlyKnown(parameters, errors, "keep");
        JobParams.Int(parameters, "keep", 1, MaxKeep, DefaultKeep, errors);
    }

    public Task<JobResult> RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        var keep = JobParams.Int(context.Parameters, "keep", 1, MaxKeep, DefaultKeep) ?? DefaultKeep;
        var backup = store.Create(BackupKinds.Scheduled);
        audit.Record(new AuditEvent("backup.created", "backup", backup.Name, new { kind = backup.Kind, size = backup.Size, job_id = context.JobId }));
        var removed = store.Prune(BackupKinds.Scheduled, keep);
        foreach (var name in removed) audit.Record(new AuditEvent("backup.deleted", "backup", name, new { reason = "keep", keep, job_id = context.JobId }));
        return Task.FromResult(JobResult.Ok($"Created {backup.Name} ({backup.Size} bytes); removed {removed.Count} older scheduled backup(s)."));
    }
}
