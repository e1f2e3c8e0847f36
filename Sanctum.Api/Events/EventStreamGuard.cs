using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Data;
using Sanctum.Api.Users;

namespace Sanctum.Api.Events;

/// <summary>
/// Every <see cref="EventsOptions.RecheckInterval"/>: checks the sessions and tokens of the open streams again (one
/// query per distinct credential) and ends the streams of a signed-out, expired, revoked or deactivated one, or one
/// that lost the admin role an admin topic needs; follows role changes for the others. Every
/// <see cref="EventsOptions.HeartbeatInterval"/>: a heartbeat on every stream. One timer for all streams.
/// </summary>
public sealed partial class EventStreamGuard(
    EventHub hub, Database database, IOptions<EventsOptions> options, IEnumerable<EventTopic> topics, TimeProvider clock,
    ILogger<EventStreamGuard> logger) : BackgroundService
{
    private const string SessionSql = """
        SELECT u.role FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_token = @hash AND u.status = 'active' AND s.expires_at > @now
        """;

    private const string TokenSql = """
        SELECT u.role FROM access_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = @hash AND u.status = 'active' AND t.expires_at > @now
        """;

    private readonly EventTopic[] _adminTopics = topics.Where(t => t.Access == TopicAccess.Admins).ToArray();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        using var timer = new PeriodicTimer(o.RecheckInterval, clock);
        var lastHeartbeat = clock.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await RecheckAsync(stoppingToken); }
                catch (DbException e) { LogRecheckFailed(logger, e); }
                if (clock.GetUtcNow() - lastHeartbeat >= o.HeartbeatInterval)
                {
                    hub.Heartbeat();
                    lastHeartbeat = clock.GetUtcNow();
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One check of every open stream's credential.</summary>
    public async Task RecheckAsync(CancellationToken cancellationToken = default)
    {
        var streams = hub.Subscribers;
        if (streams.Count == 0) return;
        var now = Timestamp.Now(clock);
        await using var db = database.Create();
        await db.OpenAsync(cancellationToken);
        foreach (var group in streams.GroupBy(s => s.Credential))
        {
            var role = await db.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
                group.Key.IsAccessToken ? TokenSql : SessionSql, new { hash = group.Key.Hash, now }, cancellationToken: cancellationToken));
            foreach (var stream in group)
            {
                if (role is null) stream.End("revoked");
                else if (role != Roles.Admin && stream.Topics.Any(t => _adminTopics.Any(a => a.Matches(t)))) stream.End("revoked");
                else if ((role == Roles.Admin) != stream.Viewer.IsAdmin || (!stream.Viewer.IsAdmin && stream.Viewer.Role != role))
                    stream.Viewer = role == Roles.Admin ? new AgentVisibility.Viewer(true, 0, Roles.Admin) : new AgentVisibility.Viewer(false, stream.UserId, role);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the event streams' sessions failed; the next tick tries again.")]
    private static partial void LogRecheckFailed(ILogger logger, Exception exception);
}
