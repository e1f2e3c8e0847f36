using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Events;

public static class EventsSetup
{
    /// <summary>The hub, its PostgreSQL relay when the database is PostgreSQL, the streams' guard and the built-in topics.</summary>
    public static IServiceCollection AddLiveEvents(this IServiceCollection services)
    {
        services.AddEventHub();
        services.AddSingleton<EventAuthorizer>();
        services.AddSingleton<PostgresEventRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<PostgresEventRelay>());
        services.AddSingleton<EventStreamGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<EventStreamGuard>());
        services.AddEventTopic("status", TopicAccess.Readers, "status.changed: a tool's, instance's or agent's status (hidden agents' events are left out)");
        services.AddEventTopic("chat:", TopicAccess.Readers, "chat.reply: a reply in the caller's chat session <session_id>");
        services.AddEventTopic("jobs", TopicAccess.Admins, "job.run.started, job.run.finished: a scheduled job's run");
        services.AddEventTopic("backups", TopicAccess.Admins, "backup.progress, backup.created, backup.restored, backup.failed");
        services.AddEventTopic("settings", TopicAccess.Admins, "settings.saved: a setting saved, with who saved it (never the value of a secret)");
        services.AddEventTopic("users", TopicAccess.Admins, "user.locked, user.updated: sign-in lockouts and changes to accounts");
        services.AddEventTopic("audit", TopicAccess.Admins, "audit.recorded: an audit event was recorded");
        return services;
    }

    /// <summary>The hub alone (events raised, kept, handed to streams): the service's, and the import dry run's, where nobody subscribes.</summary>
    public static IServiceCollection AddEventHub(this IServiceCollection services)
    {
        services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.Section)
            .Validate(o => o.HistorySize > 0 && o.BufferSize > 0 && o.MaxStreams > 0 && o.MaxStreamsPerUser > 0, "Sanctum:Events sizes and limits must be positive.")
            .Validate(o => o.HistoryAge > TimeSpan.Zero && o.HeartbeatInterval > TimeSpan.Zero && o.RecheckInterval > TimeSpan.Zero, "Sanctum:Events intervals must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton<EventHub>();
        services.TryAddSingleton<IEventPublisher>(sp => sp.GetRequiredService<EventHub>());
        return services;
    }
}
