namespace Sanctum.Api.Events;

/// <summary>
/// The events GET /api/events carries, by topic, with their data's fields: the operation's description in the OpenAPI
/// document (text/event-stream has no schema language of its own). Keep it beside the Publish calls it describes.
/// </summary>
public static class EventCatalogue
{
    public const string Markdown = """
        Each event is a text/event-stream frame: `id: <id>`, `event: <name>`, `data: <one line of JSON>`, then a blank line.
        Lines starting with `:` are heartbeats. Field names are snake_case; timestamps are ISO 8601 UTC.

        | Topic | Event | Data |
        |---|---|---|
        | `status` | `status.changed` | `kind` (tool, instance or agent), `id`, `from`, `to`, `source`, `reason` (or null), `since`, `tool_id` (an instance's tool, else null) |
        | `chat:<session_id>` | `chat.reply` | `session_id`, `response_id`, `message_id`, `timestamp` |
        | `jobs` (admins) | `job.run.started`, `job.run.finished` | a job run: `id`, `job_id`, `trigger`, `started_at`, `finished_at`, `outcome`, `message`, `duration_ms` |
        | `backups` (admins) | `backup.progress` | `operation` (create or restore), `stage`, `by`; a restore adds `name` |
        | `backups` (admins) | `backup.created` | the backup: `name`, `size`, `created_at`, `schema_version`, `kind`, `app_version` |
        | `backups` (admins) | `backup.restored` | `name`, `pre_restore` (the backup taken first), `schema_version`, `tables` |
        | `backups` (admins) | `backup.failed` | `operation`; a create adds `error` (its kind), a restore `name` |
        | `settings` (admins) | `settings.saved` | `store`, `scope`, `scope_id`, `key`, `action` (created, updated, deleted or rolled_back), `by`; never the value |
        | `users` (admins) | `user.locked` | `user_id`, `username`, `until` |
        | `users` (admins) | `user.updated` | `user_id`, `username`, `fields` (the names of the fields changed), `by` |
        | `logs` (admins) | `logs.appended` | `count`: lines written to the serving instance's log since the last announcement (at most one a second); read them with GET /api/logs |
        | `audit` (admins) | `audit.recorded` | `at`, `actor`, `action`, `target_type`, `target_id`, `outcome` |
        | any | `reset` | `reason`: what was missed since Last-Event-ID is no longer kept; reload, then go on |

        An event carried between instances whose data would not fit PostgreSQL's NOTIFY arrives with data `{"too_large":true}`: reload.
        """;
}
