using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 4: plugins, hierarchical configurations, chat linked to user accounts, and scheduled jobs.</summary>
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
            CREATE INDEX ix_web_chat_sessions_user_id ON web_chat_sessions (user_id);
            CREATE INDEX ix_web_chat_sessions_agent_id ON web_chat_sessions (agent_id);

            CREATE TABLE web_chat_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {Now},
                processed INTEGER NOT NULL DEFAULT 0 {Bool("processed")},
                broca_message_id INTEGER,
                user_id INTEGER REFERENCES users (id)
            );
            CREATE INDEX ix_web_chat_messages_session_processed ON web_chat_messages (session_id, processed);
            CREATE INDEX ix_web_chat_messages_processed ON web_chat_messages (processed, id);

            CREATE TABLE web_chat_responses (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL REFERENCES web_chat_sessions (id),
                message_id INTEGER REFERENCES web_chat_messages (id),
                response TEXT NOT NULL,
                timestamp TEXT NOT NULL DEFAULT {Now},
                status TEXT NOT NULL DEFAULT 'sent'
            );
            CREATE INDEX ix_web_chat_responses_session_id ON web_chat_responses (session_id, id);

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
            """);
    }

    public override void Down()
    {
        Execute.Sql("""
            DROP TABLE job_runs;
            DROP TABLE jobs;
            DROP INDEX ux_agents_letta_uid;
            ALTER TABLE agents DROP COLUMN config;
            ALTER TABLE agents DROP COLUMN letta_uid;
            DROP TABLE web_chat_responses;
            DROP TABLE web_chat_messages;
            DROP TABLE web_chat_sessions;
            DROP TABLE configurations;
            DROP TABLE plugins;
            """);
    }
}
