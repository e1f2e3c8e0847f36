using Dapper;
using Sanctum.Api.Agents;
using Sanctum.Api.Data;

namespace Sanctum.Api.Events;

/// <summary>
/// Whether one stream's reader may receive one event, decided when the event is written, against what the database
/// says now: a hidden agent's event never reaches a viewer, also when the agent became hidden after the stream
/// opened. The hidden agents per viewer are cached until the next commit (<see cref="ResultCache"/>).
/// </summary>
public sealed class EventAuthorizer(Database database, ResultCache cache)
{
    public bool Allows(EventSubscriber subscriber, LiveEvent e)
    {
        var viewer = subscriber.Viewer;
        if (viewer.IsAdmin) return true;
        var audience = e.Audience;
        if (audience.AdminsOnly) return false;
        if (audience.UserId is { } owner && owner != subscriber.UserId) return false;
        return audience.AgentId is not { } agent || !HiddenAgents(viewer).Contains(agent);
    }

    private HashSet<string> HiddenAgents(AgentVisibility.Viewer viewer) =>
        cache.Get(new HiddenAgentsKey(viewer), key =>
        {
            using var db = database.Open();
            return db.Query<string>(AgentVisibility.HiddenIdsSql, key.Viewer.Parameters()).ToHashSet(StringComparer.Ordinal);
        });

    private sealed record HiddenAgentsKey(AgentVisibility.Viewer Viewer);
}
