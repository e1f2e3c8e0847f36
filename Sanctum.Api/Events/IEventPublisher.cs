using System.Data;

namespace Sanctum.Api.Events;

/// <summary>
/// Who may receive an event beyond the topic's own rule: only those who see <see cref="AgentId"/> (hidden agents),
/// only <see cref="UserId"/> and admins (someone's chat), or only admins.
/// </summary>
public sealed record EventAudience(string? AgentId = null, long? UserId = null, bool AdminsOnly = false)
{
    public static readonly EventAudience Everyone = new();
    public static readonly EventAudience Admins = new(AdminsOnly: true);
}

/// <summary>
/// Raises live events (GET /api/events). <c>data</c> is serialized as snake_case JSON and must be small and hold no
/// secret: what changed and its new state.
/// </summary>
public interface IEventPublisher
{
    /// <summary>Raises an event now: call it after the change it describes has committed.</summary>
    void Publish(string topic, string name, object data, EventAudience? audience = null);

    /// <summary>Holds the event until <see cref="Committed"/> is called for <paramref name="tx"/>; dropped if it never is (rollback).</summary>
    void PublishOnCommit(IDbTransaction tx, string topic, string name, object data, EventAudience? audience = null);

    /// <summary>Raises what was published on <paramref name="tx"/>: call it right after committing it.</summary>
    void Committed(IDbTransaction tx);
}
