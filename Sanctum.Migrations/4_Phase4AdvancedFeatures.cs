using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 4: plugins, hierarchical configurations, chat linked to user accounts, scheduled jobs, health checks and status history.</summary>
[Migration(4, "Phase 4: advanced features (plugins, configurations, chat integration)")]
public sealed class Phase4AdvancedFeatures : Migration
{
    public override void Up()
    {
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql(Tables(SchemaSql.Sqlite) + SqliteHistoryTriggers);
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(Tables(SchemaSql.Postgres) + PostgresHistoryTriggers);

        // SMCP, the agents' tool server: one instance per server; config {url, home, timeout_ms}, its api_key a
        // configuration of the instance (encrypted like every *_key).
        Insert.IntoTable("tools").Row(new
        {
            id = "smcp", name = "SMCP", description = "Tool server (MCP): tools, plugins and runs", emoji = "🧩", category = "smcp",
            status = "Ready", route_path = "/smcp-tools", module_scope = "global", config_schema = SmcpConfigSchema,
        });
    }

    // One line, as every seeded JSON value is (row snapshots and the pages read it as stored).
    private const string SmcpConfigSchema =
        "{\"type\":\"object\",\"required\":[\"url\"],\"additionalProperties\":false,\"properties\":{"
        + "\"url\":{\"type\":\"string\",\"pattern\":\"^https?://\",\"maxLength\":2000,\"description\":\"The SSE (/sse) or streamable HTTP (/mcp) endpoint; the transport is detected\"},"
        + "\"home\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,\"description\":\"The SMCP install folder (its plugins/ are listed)\"},"
        + "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":100,\"maximum\":120000,\"description\":\"Time limit of one call, default 10000\"}}}";

    private static string Tables(SchemaSql d) => $"""
            CREATE TABLE plugins (
                id {d.Id},
                tool_id TEXT NOT NULL REFERENCES tools (id),
                name TEXT NOT NULL,
                module_scope TEXT CHECK (module_scope IS NULL OR module_scope IN ('global','agent')),
                version TEXT,
                status TEXT NOT NULL DEFAULT 'Inactive' CHECK (status IN ('Active','Inactive','Error')),
                config TEXT {d.Json("config")},
                dependencies TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(dependencies) AND json_type(dependencies) = 'array'),
                created_by {d.Int} REFERENCES users (id),
                {d.Timestamps},
                is_enabled {d.Bool("is_enabled")} NOT NULL DEFAULT TRUE,
                UNIQUE (tool_id, name)
            );
            CREATE INDEX ix_plugins_tool_id ON plugins (tool_id);

            CREATE TABLE configurations (
                id {d.Id},
                key TEXT NOT NULL,
                value TEXT,
                type TEXT NOT NULL DEFAULT 'string' CHECK (type IN ({ValueTypes})),
                scope TEXT NOT NULL CHECK (scope IN ('system','agent','tool','instance','user')),
                scope_id TEXT,
                description TEXT,
                is_encrypted {d.Bool("is_encrypted")} NOT NULL DEFAULT FALSE,
                created_by {d.Int} REFERENCES users (id),
                {d.Timestamps},
                CHECK ((scope = 'system') = (scope_id IS NULL))
            );
            -- UNIQUE(scope, scope_id, key) would let NULL scope ids repeat: fold NULL into '' for the index.
            CREATE UNIQUE INDEX ux_configurations_scope_key ON configurations (scope, coalesce(scope_id, ''), key);
            CREATE INDEX ix_configurations_scope ON configurations (scope, scope_id);

            CREATE TABLE web_chat_sessions (
                id TEXT NOT NULL PRIMARY KEY,
                uid TEXT NOT NULL UNIQUE,
                user_id {d.Int} REFERENCES users (id),
                agent_id TEXT REFERENCES agents (id),
                ip_address TEXT,
                user_agent TEXT,
                created_at TEXT NOT NULL DEFAULT {d.Now},
                last_active TEXT NOT NULL DEFAULT {d.Now},
                is_active {d.Bool("is_active")} NOT NULL DEFAULT TRUE,
                metadata TEXT {d.Json("metadata")}
            );
            -- A user's own sessions, latest first (chat history); all sessions latest first (the bridge's admin list, cleanup).
            CREATE INDEX ix_web_chat_sessions_user_id ON web_chat_sessions (user_id, last_active);
            CREATE INDEX ix_web_chat_sessions_agent_id ON web_chat_sessions (agent_id);
            CREATE INDEX ix_web_chat_sessions_last_active ON web_chat_sessions (last_active, id);

            -- Delivery to relays is at least once: inbox leases a message (delivery_state 'leased' until lease_until), an
            -- outbox reply answers it, an expired lease hands it out again until delivery_attempts runs out ('undelivered').
            -- agent_id is the session's agent, copied so that an agent's relay finds its messages through one index.
            -- processed (the original column) is derived: the bridge is done with the message.
            CREATE TABLE web_chat_messages (
                id {d.Id},
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {d.Now},
                broca_message_id {d.Int},
                user_id {d.Int} REFERENCES users (id),
                agent_id TEXT REFERENCES agents (id),
                delivery_state TEXT NOT NULL DEFAULT 'waiting' CHECK (delivery_state IN ('waiting','leased','answered','undelivered')),
                delivery_attempts {d.Int} NOT NULL DEFAULT 0 CHECK (delivery_attempts >= 0),
                lease_until TEXT,
                processed {d.Generated(d.Bool("processed").Split(' ')[0], "delivery_state IN ('answered','undelivered')")}
            );
            -- A session's messages in order (history pages, acknowledgements, counts).
            CREATE INDEX ix_web_chat_messages_session ON web_chat_messages (session_id, id);
            -- The inbox takes waiting messages oldest first, for every agent or for one, and leases that ran out by expiry
            -- (to hand out again, or to give up on): each from its own partial index, so a poll never steps over the
            -- leases still running nor over the answered history, however long either grows.
            CREATE INDEX ix_web_chat_messages_waiting ON web_chat_messages (id) WHERE delivery_state = 'waiting';
            CREATE INDEX ix_web_chat_messages_waiting_agent ON web_chat_messages (agent_id, id) WHERE delivery_state = 'waiting';
            CREATE INDEX ix_web_chat_messages_lease ON web_chat_messages (lease_until) WHERE delivery_state = 'leased';
            CREATE INDEX ix_web_chat_messages_lease_agent ON web_chat_messages (agent_id, lease_until) WHERE delivery_state = 'leased';

            CREATE TABLE web_chat_responses (
                id {d.Id},
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message_id {d.Int} REFERENCES web_chat_messages (id),
                response TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {d.Now},
                status TEXT NOT NULL DEFAULT 'sent'
            );
            CREATE INDEX ix_web_chat_responses_session_id ON web_chat_responses (session_id, id);
            -- Replies to a message (and the foreign key's check when messages are deleted).
            CREATE INDEX ix_web_chat_responses_message_id ON web_chat_responses (message_id);

            -- Relay presence: when a relay last polled the inbox, per agent key, or '*' for the global and admin keys
            -- (which serve every agent); connected_since starts a run of polls with no gap longer than the relay window.
            CREATE TABLE chat_relay_polls (
                relay_scope TEXT NOT NULL PRIMARY KEY,
                last_poll_at TEXT NOT NULL,
                connected_since TEXT NOT NULL
            );

            ALTER TABLE agents ADD COLUMN letta_uid TEXT;
            ALTER TABLE agents ADD COLUMN config TEXT {d.Json("config")};
            CREATE UNIQUE INDEX ux_agents_letta_uid ON agents (letta_uid);

            -- Scheduled jobs (Jobs/). next_run_at is when the scheduler runs it next (NULL: not yet planned, or
            -- paused); a past next_run_at at start-up is a missed run, run once. lease_owner/lease_until is the lease
            -- a process takes (one guarded UPDATE) before running the job: no job runs twice at once, even across
            -- processes, and a crashed holder's lease simply expires.
            CREATE TABLE jobs (
                id {d.Id},
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                kind TEXT NOT NULL,
                schedule TEXT NOT NULL,
                enabled {d.Bool("enabled")} NOT NULL DEFAULT TRUE,
                params TEXT NOT NULL DEFAULT '{EmptyObject}' CHECK (json_valid(params) AND json_type(params) = 'object'),
                next_run_at TEXT,
                lease_owner TEXT,
                lease_until TEXT,
                {d.Timestamps}
            );
            CREATE TABLE job_runs (
                id {d.Id},
                job_id {d.Int} NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                trigger TEXT NOT NULL CHECK (trigger IN ('schedule','missed','manual')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok','failed','skipped')),
                message TEXT,
                duration_ms {d.Int}
            );
            CREATE INDEX ix_job_runs_job_id ON job_runs (job_id, id);
            -- Job names are unique whatever their case.
            CREATE UNIQUE INDEX ux_jobs_name_lower ON jobs (lower(name));
            INSERT INTO jobs (name, kind, schedule, params) VALUES
                ('Daily backup', 'backup', '0 3 * * *', '{KeepSeven}'),
                ('Purge expired sessions', 'purge-sessions', '30 3 * * *', '{EmptyObject}');
            -- Where each status comes from (typed by hand, a health check, relay polls) and since when.
            ALTER TABLE tools ADD COLUMN status_source TEXT NOT NULL DEFAULT 'manual' CHECK (status_source IN ({StatusSources}));
            ALTER TABLE tools ADD COLUMN status_since TEXT;
            ALTER TABLE tools ADD COLUMN status_reason TEXT;
            ALTER TABLE agents ADD COLUMN status_source TEXT NOT NULL DEFAULT 'manual' CHECK (status_source IN ({StatusSources}));
            ALTER TABLE agents ADD COLUMN status_since TEXT;
            ALTER TABLE agents ADD COLUMN status_reason TEXT;
            ALTER TABLE tool_instances ADD COLUMN status_source TEXT NOT NULL DEFAULT 'manual' CHECK (status_source IN ({StatusSources}));
            ALTER TABLE tool_instances ADD COLUMN status_since TEXT;
            ALTER TABLE tool_instances ADD COLUMN status_reason TEXT;
            UPDATE tools SET status_since = updated_at;
            UPDATE agents SET status_since = updated_at;
            UPDATE tool_instances SET status_since = updated_at;
            -- An agent's status is its relay's, however the agent was made: the seeded ones wait for a relay like any other.
            UPDATE agents SET status_source = 'relay', status_reason = 'No relay has polled its inbox yet.' WHERE status_source = 'manual' AND status = 'Off';

            -- An instance's health check (Health/HealthCheck.cs) and the state of its probes.
            ALTER TABLE tool_instances ADD COLUMN health_check TEXT {d.Json("health_check")};
            ALTER TABLE tool_instances ADD COLUMN next_check_at TEXT;
            ALTER TABLE tool_instances ADD COLUMN check_failures {d.Int} NOT NULL DEFAULT 0;
            ALTER TABLE tool_instances ADD COLUMN last_check_at TEXT;
            ALTER TABLE tool_instances ADD COLUMN last_check_ok {d.Bool("last_check_ok")};
            ALTER TABLE tool_instances ADD COLUMN last_check_latency_ms {d.Int};
            ALTER TABLE tool_instances ADD COLUMN last_check_error TEXT;
            CREATE INDEX ix_tool_instances_next_check_at ON tool_instances (next_check_at) WHERE health_check IS NOT NULL;

            CREATE TABLE health_check_results (
                id {d.Id},
                instance_id {d.Int} NOT NULL REFERENCES tool_instances (id) ON DELETE CASCADE,
                at TEXT NOT NULL,
                ok {d.Bool("ok")} NOT NULL,
                latency_ms {d.Int},
                error TEXT
            );
            CREATE INDEX ix_health_check_results_instance ON health_check_results (instance_id, id);
            CREATE INDEX ix_health_check_results_at ON health_check_results (at);

            -- Every status change of a tool, instance or agent, whoever makes it: triggers, so no writer can skip it.
            CREATE TABLE status_history (
                id {d.Id},
                at TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('tool','instance','agent')),
                entity_id TEXT NOT NULL,
                old_status TEXT,
                new_status TEXT NOT NULL,
                source TEXT NOT NULL,
                reason TEXT
            );
            CREATE INDEX ix_status_history_entity ON status_history (kind, entity_id, at);
            CREATE INDEX ix_status_history_at ON status_history (at);

            -- A Sanctum user made from a platform user an agent's Broca knows (Broca/BrocaUsersApi.cs): the profile's
            -- id in that Broca's database, and its platform identity as it was when promoted.
            CREATE TABLE broca_user_links (
                id {d.Id},
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
                profile_id {d.Int} NOT NULL,
                platform TEXT NOT NULL,
                platform_user_id TEXT NOT NULL,
                username TEXT,
                created_at TEXT NOT NULL DEFAULT {d.Now},
                UNIQUE (agent_id, profile_id)
            );
            CREATE INDEX ix_broca_user_links_user ON broca_user_links (user_id);

            -- Alerts (Alerts/): where they go, when they fire, each event once per rule, and each delivery's attempts.
            CREATE TABLE alert_channels (
                id {d.Id},
                name TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL CHECK (type IN ('webhook','email')),
                config TEXT NOT NULL {d.Json("config")},
                secret TEXT,
                enabled {d.Bool("enabled")} NOT NULL DEFAULT TRUE,
                {d.Timestamps}
            );
            CREATE TABLE alert_rules (
                id {d.Id},
                name TEXT NOT NULL UNIQUE,
                event TEXT NOT NULL CHECK (event IN ('status','job.failed','backup.failed','audit.broken','disk.low')),
                kinds TEXT NOT NULL DEFAULT '[]' {d.Json("kinds")},
                statuses TEXT NOT NULL DEFAULT '[]' {d.Json("statuses")},
                grace_seconds {d.Int} NOT NULL DEFAULT 0 CHECK (grace_seconds BETWEEN 0 AND 3600),
                enabled {d.Bool("enabled")} NOT NULL DEFAULT TRUE,
                {d.Timestamps}
            );
            CREATE TABLE alert_rule_channels (
                rule_id {d.Int} NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
                channel_id {d.Int} NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
                PRIMARY KEY (rule_id, channel_id)
            );
            CREATE INDEX ix_alert_rule_channels_channel ON alert_rule_channels (channel_id);
            -- One row per rule and event: the unique key is what keeps two instances from alerting twice.
            CREATE TABLE alert_events (
                id {d.Id},
                rule_id {d.Int} NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
                event_key TEXT NOT NULL,
                event TEXT NOT NULL,
                payload TEXT NOT NULL {d.Json("payload")},
                entity_kind TEXT,
                entity_id TEXT,
                created_at TEXT NOT NULL,
                resolved_at TEXT,
                UNIQUE (rule_id, event_key)
            );
            CREATE INDEX ix_alert_events_open ON alert_events (rule_id) WHERE event = 'status' AND resolved_at IS NULL;
            CREATE TABLE alert_deliveries (
                id {d.Id},
                event_id {d.Int} NOT NULL REFERENCES alert_events (id) ON DELETE CASCADE,
                channel_id {d.Int} NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
                attempts {d.Int} NOT NULL DEFAULT 0,
                last_error TEXT,
                next_attempt_at TEXT NOT NULL,
                lease_until TEXT,
                created_at TEXT NOT NULL,
                sent_at TEXT,
                UNIQUE (event_id, channel_id)
            );
            CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
            CREATE INDEX ix_alert_deliveries_channel ON alert_deliveries (channel_id, id);
            -- The tools each SMCP instance offered at its last successful listing; stale once a later listing failed.
            CREATE TABLE smcp_tools (
                instance_id {d.Int} NOT NULL REFERENCES tool_instances (id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                description TEXT,
                input_schema TEXT NOT NULL {d.Json("input_schema")},
                plugin TEXT,
                listed_at TEXT NOT NULL,
                stale {d.Bool("stale")} NOT NULL DEFAULT FALSE,
                PRIMARY KEY (instance_id, name)
            );
            CREATE INDEX ix_smcp_tools_name ON smcp_tools (name);

            -- The last test of each linked peer (letta): when it last answered, with what version, and the latest error.
            CREATE TABLE peer_links (
                peer TEXT NOT NULL PRIMARY KEY,
                last_checked_at TEXT,
                last_ok {d.Bool("last_ok")},
                last_success_at TEXT,
                version TEXT,
                latency_ms {d.Int},
                error TEXT
            );
            """;

    private const string EmptyObject = "{}", KeepSeven = "{\"keep\":7}";

    private static readonly string SqliteHistoryTriggers =
        HistoryTriggers("tools", "tool", "id") + HistoryTriggers("agents", "agent", "id") + HistoryTriggers("tool_instances", "instance", "id");

    // The same triggers on PostgreSQL: one function, told the kind of row by its trigger's argument.
    private static readonly string PostgresHistoryTriggers = $"""
        CREATE FUNCTION record_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason)
                VALUES (coalesce(NEW.status_since, {SchemaSql.Postgres.Now}), TG_ARGV[0], NEW.id, NULL, NEW.status, NEW.status_source, coalesce(NEW.status_reason, 'created'));
            ELSE
                INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason)
                VALUES (coalesce(NEW.status_since, {SchemaSql.Postgres.Now}), TG_ARGV[0], NEW.id, OLD.status, NEW.status, NEW.status_source, NEW.status_reason);
            END IF;
            RETURN NULL;
        END $$;
        {PostgresHistoryTrigger("tools", "tool")}
        {PostgresHistoryTrigger("agents", "agent")}
        {PostgresHistoryTrigger("tool_instances", "instance")}
        """;

    private static string PostgresHistoryTrigger(string table, string kind) => $"""
        CREATE TRIGGER {table}_status_insert AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION record_status_change('{kind}');
        CREATE TRIGGER {table}_status_update AFTER UPDATE OF status ON {table} FOR EACH ROW
            WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION record_status_change('{kind}');
        """;

    public override void Down()
    {
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql("""
            DROP TRIGGER tools_status_insert; DROP TRIGGER tools_status_update;
            DROP TRIGGER agents_status_insert; DROP TRIGGER agents_status_update;
            DROP TRIGGER tool_instances_status_insert; DROP TRIGGER tool_instances_status_update;
            """);
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql("""
            DROP TRIGGER tools_status_insert ON tools; DROP TRIGGER tools_status_update ON tools;
            DROP TRIGGER agents_status_insert ON agents; DROP TRIGGER agents_status_update ON agents;
            DROP TRIGGER tool_instances_status_insert ON tool_instances; DROP TRIGGER tool_instances_status_update ON tool_instances;
            DROP FUNCTION record_status_change();
            """);
        Execute.Sql("""
            DROP TABLE alert_deliveries;
            DROP TABLE alert_events;
            DROP TABLE alert_rule_channels;
            DROP TABLE alert_rules;
            DROP TABLE alert_channels;
            DROP TABLE broca_user_links;
            DROP TABLE peer_links;
            DROP TABLE smcp_tools;
            DELETE FROM tool_instances WHERE tool_id = 'smcp';
            DELETE FROM tools WHERE id = 'smcp';
            DROP TABLE status_history;
            DROP TABLE health_check_results;
            DROP INDEX ix_tool_instances_next_check_at;
            ALTER TABLE tool_instances DROP COLUMN last_check_error;
            ALTER TABLE tool_instances DROP COLUMN last_check_latency_ms;
            ALTER TABLE tool_instances DROP COLUMN last_check_ok;
            ALTER TABLE tool_instances DROP COLUMN last_check_at;
            ALTER TABLE tool_instances DROP COLUMN check_failures;
            ALTER TABLE tool_instances DROP COLUMN next_check_at;
            ALTER TABLE tool_instances DROP COLUMN health_check;
            ALTER TABLE tool_instances DROP COLUMN status_reason;
            ALTER TABLE tool_instances DROP COLUMN status_since;
            ALTER TABLE tool_instances DROP COLUMN status_source;
            ALTER TABLE agents DROP COLUMN status_reason;
            ALTER TABLE agents DROP COLUMN status_since;
            ALTER TABLE agents DROP COLUMN status_source;
            ALTER TABLE tools DROP COLUMN status_reason;
            ALTER TABLE tools DROP COLUMN status_since;
            ALTER TABLE tools DROP COLUMN status_source;
            DROP TABLE job_runs;
            DROP TABLE jobs;
            DROP INDEX ux_agents_letta_uid;
            ALTER TABLE agents DROP COLUMN config;
            ALTER TABLE agents DROP COLUMN letta_uid;
            DROP TABLE chat_relay_polls;
            DROP TABLE web_chat_responses;
            DROP TABLE web_chat_messages;
            DROP TABLE web_chat_sessions;
            DROP TABLE configurations;
            DROP TABLE plugins;
            """);
    }

    private const string StatusSources = "'manual','check','relay'";

    /// <summary>
    /// Records a row's first status and every change of it in status_history, with the source and reason the writer
    /// set in the same statement (status_source, status_since, status_reason).
    /// </summary>
    private static string HistoryTriggers(string table, string kind, string key) => $"""
        CREATE TRIGGER {table}_status_insert AFTER INSERT ON {table}
        BEGIN
            INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason)
            VALUES (coalesce(NEW.status_since, {SchemaSql.Sqlite.Now}), '{kind}', NEW.{key}, NULL, NEW.status, NEW.status_source, coalesce(NEW.status_reason, 'created'));
        END;
        CREATE TRIGGER {table}_status_update AFTER UPDATE OF status ON {table}
        WHEN OLD.status IS NOT NEW.status
        BEGIN
            INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason)
            VALUES (coalesce(NEW.status_since, {SchemaSql.Sqlite.Now}), '{kind}', NEW.{key}, OLD.status, NEW.status, NEW.status_source, NEW.status_reason);
        END;
        """;
}
