using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 4: plugins, hierarchical configurations, chat linked to user accounts, scheduled jobs, health checks and status history.</summary>
[Migration(4, "Phase 4: advanced features (plugins, configurations, chat integration)")]
public sealed class Phase4AdvancedFeatures : Migration
{
    public override void Up()
    {
        Execute.Sql($"""
            CREATE TABLE plugins (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                tool_id TEXT NOT NULL REFERENCES tools (id),
                name TEXT NOT NULL,
                module_scope TEXT CHECK (module_scope IS NULL OR module_scope IN ('global','agent')),
                version TEXT,
                status TEXT NOT NULL DEFAULT 'Inactive' CHECK (status IN ('Active','Inactive','Error')),
                config TEXT {Json("config")},
                dependencies TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(dependencies) AND json_type(dependencies) = 'array'),
                created_by INTEGER REFERENCES users (id),
                {Timestamps},
                is_enabled INTEGER NOT NULL DEFAULT 1 {Bool("is_enabled")},
                UNIQUE (tool_id, name)
            );
            CREATE INDEX ix_plugins_tool_id ON plugins (tool_id);

            CREATE TABLE configurations (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                key TEXT NOT NULL,
                value TEXT,
                type TEXT NOT NULL DEFAULT 'string' CHECK (type IN ({ValueTypes})),
                scope TEXT NOT NULL CHECK (scope IN ('system','agent','tool','instance','user')),
                scope_id TEXT,
                description TEXT,
                is_encrypted INTEGER NOT NULL DEFAULT 0 {Bool("is_encrypted")},
                created_by INTEGER REFERENCES users (id),
                {Timestamps},
                CHECK ((scope = 'system') = (scope_id IS NULL))
            );
            -- UNIQUE(scope, scope_id, key) would let NULL scope ids repeat: fold NULL into '' for the index.
            CREATE UNIQUE INDEX ux_configurations_scope_key ON configurations (scope, ifnull(scope_id, ''), key);
            CREATE INDEX ix_configurations_scope ON configurations (scope, scope_id);

            CREATE TABLE web_chat_sessions (
                id TEXT NOT NULL PRIMARY KEY,
                uid TEXT NOT NULL UNIQUE,
                user_id INTEGER REFERENCES users (id),
                agent_id TEXT REFERENCES agents (id),
                ip_address TEXT,
                user_agent TEXT,
                created_at TEXT NOT NULL DEFAULT {Now},
                last_active TEXT NOT NULL DEFAULT {Now},
                is_active INTEGER NOT NULL DEFAULT 1 {Bool("is_active")},
                metadata TEXT {Json("metadata")}
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
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {Now},
                broca_message_id INTEGER,
                user_id INTEGER REFERENCES users (id),
                agent_id TEXT REFERENCES agents (id),
                delivery_state TEXT NOT NULL DEFAULT 'waiting' CHECK (delivery_state IN ('waiting','leased','answered','undelivered')),
                delivery_attempts INTEGER NOT NULL DEFAULT 0 CHECK (delivery_attempts >= 0),
                lease_until TEXT,
                processed INTEGER GENERATED ALWAYS AS (delivery_state IN ('answered','undelivered')) VIRTUAL
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
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message_id INTEGER REFERENCES web_chat_messages (id),
                response TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {Now},
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
            ALTER TABLE agents ADD COLUMN config TEXT {Json("config")};
            CREATE UNIQUE INDEX ux_agents_letta_uid ON agents (letta_uid);

            -- Scheduled jobs (Jobs/). next_run_at is when the scheduler runs it next (NULL: not yet planned, or
            -- paused); a past next_run_at at start-up is a missed run, run once. lease_owner/lease_until is the lease
            -- a process takes (one guarded UPDATE) before running the job: no job runs twice at once, even across
            -- processes, and a crashed holder's lease simply expires.
            CREATE TABLE jobs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 100),
                kind TEXT NOT NULL,
                schedule TEXT NOT NULL,
                enabled INTEGER NOT NULL DEFAULT 1 {Bool("enabled")},
                params TEXT NOT NULL DEFAULT (json_object()) CHECK (json_valid(params) AND json_type(params) = 'object'),
                next_run_at TEXT,
                lease_owner TEXT,
                lease_until TEXT,
                {Timestamps}
            );
            CREATE TABLE job_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                trigger TEXT NOT NULL CHECK (trigger IN ('schedule','missed','manual')),
                started_at TEXT NOT NULL,
                finished_at TEXT,
                outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok','failed','skipped')),
                message TEXT,
                duration_ms INTEGER
            );
            CREATE INDEX ix_job_runs_job_id ON job_runs (job_id, id);
            INSERT INTO jobs (name, kind, schedule, params) VALUES
                ('Daily backup', 'backup', '0 3 * * *', json_object('keep', 7)),
                ('Purge expired sessions', 'purge-sessions', '30 3 * * *', json_object());
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

            -- An instance's health check (Health/HealthCheck.cs) and the state of its probes.
            ALTER TABLE tool_instances ADD COLUMN health_check TEXT {Json("health_check")};
            ALTER TABLE tool_instances ADD COLUMN next_check_at TEXT;
            ALTER TABLE tool_instances ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE tool_instances ADD COLUMN last_check_at TEXT;
            ALTER TABLE tool_instances ADD COLUMN last_check_ok INTEGER {Bool("last_check_ok")};
            ALTER TABLE tool_instances ADD COLUMN last_check_latency_ms INTEGER;
            ALTER TABLE tool_instances ADD COLUMN last_check_error TEXT;
            CREATE INDEX ix_tool_instances_next_check_at ON tool_instances (next_check_at) WHERE health_check IS NOT NULL;

            CREATE TABLE health_check_results (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                instance_id INTEGER NOT NULL REFERENCES tool_instances (id) ON DELETE CASCADE,
                at TEXT NOT NULL,
                ok INTEGER NOT NULL {Bool("ok")},
                latency_ms INTEGER,
                error TEXT
            );
            CREATE INDEX ix_health_check_results_instance ON health_check_results (instance_id, id);
            CREATE INDEX ix_health_check_results_at ON health_check_results (at);

            -- Every status change of a tool, instance or agent, whoever makes it: triggers, so no writer can skip it.
            CREATE TABLE status_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
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
            {HistoryTriggers("tools", "tool", "id")}
            {HistoryTriggers("agents", "agent", "id")}
            {HistoryTriggers("tool_instances", "instance", "id")}
            """);
    }

    public override void Down()
    {
        Execute.Sql("""
            DROP TRIGGER tools_status_insert; DROP TRIGGER tools_status_update;
            DROP TRIGGER agents_status_insert; DROP TRIGGER agents_status_update;
            DROP TRIGGER tool_instances_status_insert; DROP TRIGGER tool_instances_status_update;
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
            VALUES (coalesce(NEW.status_since, {Now}), '{kind}', NEW.{key}, NULL, NEW.status, NEW.status_source, coalesce(NEW.status_reason, 'created'));
        END;
        CREATE TRIGGER {table}_status_update AFTER UPDATE OF status ON {table}
        WHEN OLD.status IS NOT NEW.status
        BEGIN
            INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason)
            VALUES (coalesce(NEW.status_since, {Now}), '{kind}', NEW.{key}, OLD.status, NEW.status, NEW.status_source, NEW.status_reason);
        END;
        """;
}
