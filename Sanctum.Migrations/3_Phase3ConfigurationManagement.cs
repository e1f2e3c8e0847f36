using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 3: system configuration, environment variables, tool instances and the history of every setting.</summary>
[Migration(3, "Phase 3: configuration management (system_config, env_vars, tool_instances, setting_history)")]
public sealed class Phase3ConfigurationManagement : Migration
{
    public override void Up()
    {
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql(Tables(SchemaSql.Sqlite) + SqliteOnly);
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(Tables(SchemaSql.Postgres) + PostgresOnly);

        Config("api_port", "5000", "number", "network", "Port the Sanctum API listens on");
        Config("smcp_port", "9000", "number", "network", "Port of the SMCP server");
        Config("letta_server_address", "https://localhost", "string", "letta", "Address of the Letta server");
        Config("letta_server_port", "443", "number", "letta", "Port of the Letta server");
        Config("letta_server_token", "", "string", "letta", "Token for the Letta server", encrypted: true);
        Config("letta_connection_timeout", "30", "number", "letta", "Seconds to wait for the Letta server");
        Config("openai_api_key", "", "string", "providers", "OpenAI API key", encrypted: true);
        Config("anthropic_api_key", "", "string", "providers", "Anthropic API key", encrypted: true);
        Config("ollama_base_url", "http://localhost:11434", "string", "providers", "Base URL of the Ollama server");
        Config("sanctum_base_path", "~/sanctum", "string", "paths", "Sanctum installation directory");
        Config("letta_data_path", "~/.letta", "string", "paths", "Letta data directory");
        Config("session_timeout", "1800", "number", "chat", "Seconds before an idle chat session may be cleaned up");
        Config("max_message_length", "10000", "number", "chat", "Longest chat message accepted, in characters");
        // Empty here on purpose: the API fills both with fresh random values, encrypted, on first start,
        // so no install shares a key and the plaintext never touches the database.
        Config("chat_api_key", "", "string", "chat", "Bearer key for the chat bridge inbox and outbox", encrypted: true);
        Config("chat_admin_key", "", "string", "chat", "Bearer key for the chat bridge admin actions", encrypted: true);
        Config("chat_allow_anonymous", "false", "boolean", "chat", "Whether visitors who are not signed in may use the web chat");
        // The broca tool's instances name the Broca folder they operate (Broca/BrocaHome.cs keeps the same text).
        Update.Table("tools").Set(new { config_schema = BrocaConfigSchema }).Where(new { id = "broca" });
    }

    private const string BrocaConfigSchema =
        "{\"type\":\"object\",\"properties\":{\"home\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,\"description\":\"The Broca instance folder: it holds settings.json or sanctum.db\"}},\"required\":[\"home\"]}";

    private static string Tables(SchemaSql d) => $"""
            CREATE TABLE system_config (
                id {d.Id},
                config_key TEXT NOT NULL UNIQUE,
                config_value TEXT,
                config_type TEXT NOT NULL DEFAULT 'string' CHECK (config_type IN ({ValueTypes})),
                description TEXT,
                is_encrypted {d.Bool("is_encrypted")} NOT NULL DEFAULT FALSE,
                category TEXT NOT NULL DEFAULT 'general',
                -- SHA-256 (hex) of a bearer key's plaintext, so the chat bridge checks keys without decrypting.
                value_digest TEXT,
                {d.Timestamps}
            );

            CREATE TABLE env_vars (
                id {d.Id},
                var_name TEXT NOT NULL UNIQUE
                    CHECK (length(var_name) BETWEEN 1 AND 128 AND {d.EnvVarName("var_name")}),
                var_value TEXT,
                is_encrypted {d.Bool("is_encrypted")} NOT NULL DEFAULT FALSE,
                description TEXT,
                {d.Timestamps}
            );

            CREATE TABLE tool_instances (
                id {d.Id},
                tool_id TEXT NOT NULL REFERENCES tools (id),
                agent_id TEXT REFERENCES agents (id),
                name TEXT,
                config TEXT {d.Json("config")},
                status TEXT NOT NULL DEFAULT 'Ready' CHECK (status IN ({HealthStatuses})),
                last_run TEXT,
                next_run TEXT,
                created_by {d.Int} REFERENCES users (id),
                {d.Timestamps},
                is_active {d.Bool("is_active")} NOT NULL DEFAULT TRUE
            );
            CREATE INDEX ix_tool_instances_agent_id ON tool_instances (agent_id);
            CREATE INDEX ix_tool_instances_tool_id ON tool_instances (tool_id);

            -- Every change of a setting in any of the four stores (system_config, env_vars, agent_configs,
            -- configurations): values in their stored form, so a secret's stay encrypted.
            CREATE TABLE setting_history (
                id {d.Id},
                -- broca_settings and broca_env: the settings.json and .env files of an agent's Broca (scope agent).
                store TEXT NOT NULL CHECK (store IN ('system_config','env_vars','agent_configs','configurations','broca_settings','broca_env')),
                scope TEXT NOT NULL,
                scope_id TEXT,
                key TEXT NOT NULL,
                version {d.Int} NOT NULL CHECK (version > 0),
                action TEXT NOT NULL CHECK (action IN ('set','delete','rollback')),
                type TEXT NOT NULL CHECK (type IN ({ValueTypes})),
                is_encrypted {d.Bool("is_encrypted")} NOT NULL,
                old_value TEXT,
                new_value TEXT,
                changed_by TEXT NOT NULL,
                changed_at TEXT NOT NULL DEFAULT {d.Now}
            );
            CREATE UNIQUE INDEX ux_setting_history_version ON setting_history (store, scope, coalesce(scope_id, ''), key, version);
            CREATE INDEX ix_setting_history_key ON setting_history (store, key);

            -- The Data Protection key ring when the database is PostgreSQL (Infrastructure/DatabaseKeyRing.cs): each key's XML,
            -- encrypted with a key from configuration. SQLite keeps the ring in files beside the database.
            CREATE TABLE data_protection_keys (
                id {d.Id},
                friendly_name TEXT NOT NULL UNIQUE,
                xml TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT {d.Now}
            );

            ALTER TABLE tools ADD COLUMN module_scope TEXT NOT NULL DEFAULT 'global' CHECK (module_scope IN ('global','agent'));
            ALTER TABLE tools ADD COLUMN config_schema TEXT {d.Json("config_schema")};
            ALTER TABLE tools ADD COLUMN created_by {d.Int} REFERENCES users (id);

            """;

    private const string SqliteOnly = """
            -- An agent-scoped tool has at most one instance per agent. The rule reads another table,
            -- so a partial unique index cannot express it; triggers keep it, race-free inside SQLite's one writer. The
            -- refusal reads as a unique violation of tool_instances_one_per_agent on both engines (Data/DbErrors.cs).
            CREATE TRIGGER tool_instances_one_per_agent_insert
            BEFORE INSERT ON tool_instances
            WHEN NEW.agent_id IS NOT NULL
             AND (SELECT module_scope FROM tools WHERE id = NEW.tool_id) = 'agent'
             AND EXISTS (SELECT 1 FROM tool_instances WHERE tool_id = NEW.tool_id AND agent_id = NEW.agent_id)
            BEGIN
                SELECT RAISE(ABORT, 'UNIQUE constraint failed: tool_instances_one_per_agent');
            END;

            CREATE TRIGGER tool_instances_one_per_agent_update
            BEFORE UPDATE OF tool_id, agent_id ON tool_instances
            WHEN NEW.agent_id IS NOT NULL
             AND (SELECT module_scope FROM tools WHERE id = NEW.tool_id) = 'agent'
             AND EXISTS (SELECT 1 FROM tool_instances
                         WHERE tool_id = NEW.tool_id AND agent_id = NEW.agent_id AND id <> NEW.id)
            BEGIN
                SELECT RAISE(ABORT, 'UNIQUE constraint failed: tool_instances_one_per_agent');
            END;
            """;

    private const string PostgresOnly = """
            -- The same rule: the trigger function takes a transaction-scoped advisory lock on the (tool, agent) pair
            -- first, so two concurrent inserts of the same pair are checked one after the other.
            CREATE FUNCTION tool_instances_one_per_agent() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.agent_id IS NOT NULL AND (SELECT module_scope FROM tools WHERE id = NEW.tool_id) = 'agent' THEN
                    PERFORM pg_advisory_xact_lock(hashtext('tool_instances_one_per_agent'), hashtext(NEW.tool_id || '/' || NEW.agent_id));
                    IF EXISTS (SELECT 1 FROM tool_instances WHERE tool_id = NEW.tool_id AND agent_id = NEW.agent_id AND id <> NEW.id) THEN
                        RAISE EXCEPTION 'UNIQUE constraint failed: tool_instances_one_per_agent'
                            USING ERRCODE = 'unique_violation', CONSTRAINT = 'tool_instances_one_per_agent';
                    END IF;
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER tool_instances_one_per_agent_insert BEFORE INSERT ON tool_instances
                FOR EACH ROW EXECUTE FUNCTION tool_instances_one_per_agent();
            CREATE TRIGGER tool_instances_one_per_agent_update BEFORE UPDATE OF tool_id, agent_id ON tool_instances
                FOR EACH ROW EXECUTE FUNCTION tool_instances_one_per_agent();
            """;

    public override void Down()
    {
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql("""
            DROP TRIGGER tool_instances_one_per_agent_update;
            DROP TRIGGER tool_instances_one_per_agent_insert;
            """);
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql("""
            DROP TRIGGER tool_instances_one_per_agent_update ON tool_instances;
            DROP TRIGGER tool_instances_one_per_agent_insert ON tool_instances;
            DROP FUNCTION tool_instances_one_per_agent();
            """);
        Execute.Sql("""
            DROP TABLE data_protection_keys;
            DROP TABLE setting_history;
            DROP TABLE tool_instances;
            DROP TABLE env_vars;
            DROP TABLE system_config;
            ALTER TABLE tools DROP COLUMN created_by;
            ALTER TABLE tools DROP COLUMN config_schema;
            ALTER TABLE tools DROP COLUMN module_scope;
            """);
    }

    private void Config(string key, string value, string type, string category, string description, bool encrypted = false) =>
        Insert.IntoTable("system_config").Row(new
        {
            config_key = key,
            config_value = value,
            config_type = type,
            category,
            description,
            is_encrypted = encrypted,
        });
}
