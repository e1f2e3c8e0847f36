using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 2: sessions and agent configuration, plus the columns sign-in and visibility need.</summary>
[Migration(2, "Phase 2: user management (user_sessions, agent_configs)")]
public sealed class Phase2UserManagement : Migration
{
    public override void Up()
    {
        Execute.Sql($"""
            CREATE TABLE user_sessions (
                id TEXT NOT NULL PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                session_token TEXT NOT NULL UNIQUE,
                ip_address TEXT,
                user_agent TEXT,
                expires_at TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT {Now}
            );
            CREATE INDEX ix_user_sessions_user_id ON user_sessions (user_id);

            CREATE TABLE agent_configs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                config_key TEXT NOT NULL,
                config_value TEXT,
                config_type TEXT NOT NULL DEFAULT 'string' CHECK (config_type IN ({ValueTypes})),
                is_encrypted INTEGER NOT NULL DEFAULT 0 {Bool("is_encrypted")},
                {Timestamps},
                UNIQUE (agent_id, config_key)
            );
            CREATE INDEX ix_agent_configs_agent_id ON agent_configs (agent_id);

            ALTER TABLE users ADD COLUMN failed_login_attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE users ADD COLUMN locked_until TEXT;
            ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 {Bool("must_change_password")};
            ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]' {Json("permissions")};
            UPDATE users SET must_change_password = 1 WHERE username = 'admin';

            ALTER TABLE agents ADD COLUMN visible_to_users TEXT {Json("visible_to_users")};
            ALTER TABLE agents ADD COLUMN visible_to_roles TEXT {Json("visible_to_roles")};
            ALTER TABLE agents ADD COLUMN created_by INTEGER REFERENCES users (id);
            """);
    }

    public override void Down()
    {
        Execute.Sql("""
            DROP TABLE agent_configs;
            DROP TABLE user_sessions;
            ALTER TABLE agents DROP COLUMN created_by;
            ALTER TABLE agents DROP COLUMN visible_to_roles;
            ALTER TABLE agents DROP COLUMN visible_to_users;
            ALTER TABLE users DROP COLUMN permissions;
            ALTER TABLE users DROP COLUMN must_change_password;
            ALTER TABLE users DROP COLUMN locked_until;
            ALTER TABLE users DROP COLUMN failed_login_attempts;
            """);
    }
}
