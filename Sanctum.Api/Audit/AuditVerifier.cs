using System.Data.Common;
using Sanctum.Api.Data;

namespace Sanctum.Api.Audit;

/// <summary>
/// Verifies the audit chain and hands out checkpoints, for the API and for anything else that must know whether the
/// log is intact (an alert): events still queued are stored first, so the answer covers everything recorded before.
/// </summary>
public sealed partial class AuditVerifier(Database database, AuditLog audit, AuditChain chain, ILogger<AuditVerifier> logger)
{
    /// <summary>How long a check waits for events still queued for the table.</summary>
    public static readonly TimeSpan FlushWait = TimeSpan.FromSeconds(2);

    /// <summary>Re-checks every row's MAC and link, and the <paramref name="checkpoint"/> an operator kept, if given.</summary>
    public async Task<AuditVerification> VerifyAsync(AuditCheckpoint? checkpoint = null, CancellationToken cancellationToken = default)
    {
        await audit.FlushAsync(FlushWait, cancellationToken);
        await using DbConnection db = database.Open();
        return chain.Verify(db, checkpoint);
    }

    /// <summary>The newest row's id and MAC (null for an empty log), also written to the application log.</summary>
    public async Task<AuditCheckpoint?> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        await audit.FlushAsync(FlushWait, cancellationToken);
        await using DbConnection db = database.Open();
        var checkpoint = chain.Checkpoint(db);
        if (checkpoint is not null) LogCheckpoint(logger, checkpoint.Checkpoint);
        return checkpoint;
    }

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning,
        Message = "Audit checkpoint {Checkpoint}: keep it outside this server and pass it to GET /api/audit/verify?checkpoint=")]
    private static partial void LogCheckpoint(ILogger logger, string checkpoint);
}
