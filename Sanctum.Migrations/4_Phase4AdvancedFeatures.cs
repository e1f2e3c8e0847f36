using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 4: plugins, hierarchical configurations, and chat linked to user accounts.</summary>
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
            -- The inbox: open messages oldest first, for every agent or for one; covering, so a poll reads no table rows
            -- it does not hand out, however long the backlog.
            CREATE INDEX ix_web_chat_messages_open ON web_chat_messages (id, delivery_state, lease_until, delivery_attempts)
                WHERE delivery_state IN ('waiting','leased');
            CREATE INDEX ix_web_chat_messages_open_agent ON web_chat_messages (agent_id, id, delivery_state, lease_until, delivery_attempts)
                WHERE delivery_state IN ('waiting','leased');
            -- Leases by expiry: the ones that ran out of attempts become undelivered.
            CREATE INDEX ix_web_chat_messages_lease ON web_chat_messages (lease_until) WHERE delivery_state = 'leased';

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
            """);
    }

    public override void Down()
    {
        Execute.Sql("""
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
}
