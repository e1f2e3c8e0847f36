using System.Security.Claims;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Events;

/// <summary>Who may subscribe to a topic (each event's <see cref="EventAudience"/> is checked on top, per event).</summary>
public enum TopicAccess { Readers, Admins }

/// <summary>
/// The topics a stream may name in <c>topics=</c>: an exact name (<c>status</c>) or a family with a suffix
/// (<c>chat:</c> for <c>chat:&lt;session_id&gt;</c>). A feature adds its topic with one line:
/// <c>services.AddEventTopic("logs", TopicAccess.Admins)</c>.
/// </summary>
public sealed record EventTopic(string Name, TopicAccess Access, string Description)
{
    public bool IsFamily => Name.EndsWith(':');

    public bool Matches(string topic) => IsFamily ? topic.Length > Name.Length && topic.StartsWith(Name, StringComparison.Ordinal) : topic == Name;

    public bool Allows(ClaimsPrincipal user) => Access == TopicAccess.Readers || user.IsAdmin();
}

public static class EventTopicSetup
{
    public static IServiceCollection AddEventTopic(this IServiceCollection services, string name, TopicAccess access, string description) =>
        services.AddSingleton(new EventTopic(name, access, description));
}
