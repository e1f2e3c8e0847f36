using System.Security.Claims;
using System.Text.Json;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Audit;

/// <summary>
/// One security or administrative event: <c>Action</c> is dotted and stable (<c>auth.login.succeeded</c>,
/// <c>user.updated</c>, <c>backup.created</c>, <c>job.run</c>, <c>status.changed</c>); <c>Details</c> names what changed
/// (field names, counts), never a secret value or a hash.
/// </summary>
public sealed record AuditEvent(
    string Action, string? TargetType = null, string? TargetId = null, object? Details = null, string Outcome = "ok");

/// <summary>
/// The one place every feature reports its events to. Today it writes one structured log line per event; the audit
/// issue (#12) adds the append-only, hash-chained table behind the same call.
/// </summary>
public sealed partial class AuditLog(ILogger<AuditLog> logger)
{
    /// <summary>Records an event; the actor and client address come from <paramref name="http"/> when there is one.</summary>
    public void Record(AuditEvent e, HttpContext? http = null)
    {
        var actor = http?.User.FindFirstValue(ClaimTypes.Name);
        var address = http is null ? null : AuthSetup.ClientAddress(http);
        LogEvent(logger, e.Action, e.Outcome, actor, address, e.TargetType, e.TargetId,
            e.Details is null ? null : JsonSerializer.Serialize(e.Details));
    }

    [LoggerMessage(EventId = 9000, Level = LogLevel.Information,
        Message = "Audit {Action} {Outcome} by {Actor} from {Address} on {TargetType} {TargetId} {Details}")]
    private static partial void LogEvent(ILogger logger, string action, string outcome, string? actor, string? address,
        string? targetType, string? targetId, string? details);
}
