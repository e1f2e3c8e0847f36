using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 2: sessions, personal access tokens, agent configuration and the audit log, plus the columns sign-in and visibility need.</summary>
[Migration(2, "Phase 2: user management (user_sessions, access_tokens, agent_configs, audit_log)")]
public sealed class Phase2UserManagement : Migration
{
    public override void Up()
    {
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql(Tables(SchemaSql.Sqlite) + SqliteOnly);
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(Tables(SchemaSql.Postgres) + PostgresOnly);
    }

    private static string Tables(SchemaSql d) => $"""
            CREATE TABLE user_sessions (
                id TEXT NOT NULL PRIMARY KEY,
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                session_token TEXT NOT NULL UNIQUE,
                ip_address TEXT,
                user_agent TEXT,
                expires_at TEXT NOT NULL,
                created_at TEXT NOT NULL DEFAULT {d.Now}
            );
            CREATE INDEX ix_user_sessions_user_id ON user_sessions (user_id);

            -- Personal access tokens for scripts: only the token's SHA-256 is kept; the owner's role caps what it may do.
            CREATE TABLE access_tokens (
                id {d.Id},
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                token_hash TEXT NOT NULL UNIQUE,
                scope TEXT NOT NULL CHECK (scope IN ('read','write')),
                expires_at TEXT NOT NULL,
                last_used_at TEXT,
                created_at TEXT NOT NULL DEFAULT {d.Now}
            );
            CREATE INDEX ix_access_tokens_user_id ON access_tokens (user_id);

            CREATE TABLE agent_configs (
                id {d.Id},
                agent_id TEXT NOT NULL REFERENCES agents (id),
                config_key TEXT NOT NULL,
                config_value TEXT,
                config_type TEXT NOT NULL DEFAULT 'string' CHECK (config_type IN ({ValueTypes})),
                is_encrypted {d.Bool("is_encrypted")} NOT NULL DEFAULT FALSE,
                -- SHA-256 (hex) of the agent's chat bridge key, so the bridge checks keys without decrypting.
                value_digest TEXT,
                {d.Timestamps},
                UNIQUE (agent_id, config_key)
            );
            CREATE INDEX ix_agent_configs_agent_id ON agent_configs (agent_id);

            -- Append-only and hash-chained: hash = SHA-256 of prev_hash and the row's canonical content (Audit/AuditChain.cs),
            -- so an edit or a deletion breaks the chain. Ids are given by the writer (previous id + 1) inside its write
            -- transaction; retention deletes from the oldest end and appends an 'audit.pruned' anchor row.
            CREATE TABLE audit_log (
                id {d.Int} NOT NULL PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT,
                actor_id {d.Int},
                address TEXT,
                action TEXT NOT NULL,
                target_type TEXT,
                target_id TEXT,
                outcome TEXT NOT NULL,
                details TEXT {d.Json("details")},
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            );
            CREATE INDEX ix_audit_log_at ON audit_log (at);
            CREATE INDEX ix_audit_log_action ON audit_log (action, id);
            CREATE INDEX ix_audit_log_actor ON audit_log (actor, id);

            -- On PostgreSQL a write's audit row commits here, in the write's own transaction, and the audit writer moves
            -- it into the chain shortly after (Audit/AuditWriter.cs): concurrent writers never wait for the chain's tail.
            -- Unused on SQLite, whose single writer extends the chain in the write's transaction itself.
            CREATE TABLE audit_unsealed (
                id {d.Id},
                at TEXT NOT NULL,
                actor TEXT,
                actor_id {d.Int},
                address TEXT,
                action TEXT NOT NULL,
                target_type TEXT,
                target_id TEXT,
                outcome TEXT NOT NULL,
                details TEXT {d.Json("details")}
            );

            -- Rate limits shared by every instance on one database (Data/SharedRateLimiter.cs), on PostgreSQL: the sign-in
            -- limit per client address and the chat bridge's limits (fixed windows: a count; token buckets: when full again).
            CREATE TABLE rate_limit_windows (
                bucket TEXT NOT NULL PRIMARY KEY,
                window_start TEXT NOT NULL,
                hits {d.Int} NOT NULL
            );

            -- Two-factor sign-in (Auth/TwoFactor*.cs). The TOTP secret is kept encrypted with Data Protection; confirmed_at
            -- is NULL while an enrolment waits for its first code; last_step is the time step of the last accepted code,
            -- so no code is accepted twice.
            CREATE TABLE user_totp (
                user_id {d.Int} NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                secret TEXT NOT NULL,
                confirmed_at TEXT,
                last_step {d.Int} NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL DEFAULT {d.Now}
            );
            -- Single-use recovery codes: only their SHA-256.
            CREATE TABLE user_recovery_codes (
                id {d.Id},
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                code_hash TEXT NOT NULL,
                used_at TEXT,
                UNIQUE (user_id, code_hash)
            );
            -- A password accepted for an account with two-factor on: the SHA-256 of the challenge handed to the client,
            -- good for a few minutes and a few tries at the second factor.
            CREATE TABLE login_challenges (
                id TEXT NOT NULL PRIMARY KEY,
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                expires_at TEXT NOT NULL,
                tries_left {d.Int} NOT NULL
            );
            CREATE INDEX ix_login_challenges_user_id ON login_challenges (user_id);

            -- Accounts at an OpenID provider linked to local users (Auth/OidcSignIn.cs): the provider's issuer and subject.
            CREATE TABLE user_identities (
                issuer TEXT NOT NULL,
                subject TEXT NOT NULL,
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL DEFAULT {d.Now},
                PRIMARY KEY (issuer, subject)
            );
            CREATE INDEX ix_user_identities_user_id ON user_identities (user_id);

            -- Passkeys (WebAuthn credentials, Auth/Passkeys*.cs): the credential id (base64url), its COSE public key
            -- (base64) and the authenticator's signature counter, which must grow with every use.
            CREATE TABLE user_passkeys (
                id {d.Id},
                user_id {d.Int} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                credential_id TEXT NOT NULL UNIQUE,
                public_key TEXT NOT NULL,
                sign_count {d.Int} NOT NULL DEFAULT 0,
                name TEXT NOT NULL,
                aaguid TEXT,
                created_at TEXT NOT NULL DEFAULT {d.Now},
                last_used_at TEXT
            );
            CREATE INDEX ix_user_passkeys_user_id ON user_passkeys (user_id);
            -- A WebAuthn ceremony in progress: the SHA-256 of the handle given to the client, the options sent (with
            -- their random challenge), for whom and for what; used once, good for a few minutes.
            CREATE TABLE passkey_ceremonies (
                id TEXT NOT NULL PRIMARY KEY,
                purpose TEXT NOT NULL,
                user_id {d.Int} REFERENCES users (id) ON DELETE CASCADE,
                login_challenge TEXT,
                options TEXT NOT NULL,
                expires_at TEXT NOT NULL
            );

            ALTER TABLE users ADD COLUMN failed_login_attempts {d.Int} NOT NULL DEFAULT 0;
            ALTER TABLE users ADD COLUMN locked_until TEXT;
            -- The users list's status=locked (status 'locked', or a lockout after failed sign-ins still running) reads
            -- these two small indexes instead of every user.
            CREATE INDEX ix_users_locked ON users (status) WHERE status = 'locked';
            CREATE INDEX ix_users_locked_until ON users (locked_until) WHERE locked_until IS NOT NULL;
            ALTER TABLE users ADD COLUMN must_change_password {d.Bool("must_change_password")} NOT NULL DEFAULT FALSE;
            ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]' {d.Json("permissions")};
            UPDATE users SET must_change_password = TRUE WHERE username = 'admin';

            ALTER TABLE agents ADD COLUMN visible_to_users TEXT {d.Json("visible_to_users")};
            ALTER TABLE agents ADD COLUMN visible_to_roles TEXT {d.Json("visible_to_roles")};
            ALTER TABLE agents ADD COLUMN created_by {d.Int} REFERENCES users (id);

            """;

    private const string SqliteOnly = """
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
            BEGIN
                SELECT RAISE(ABORT, 'audit_log is append-only');
            END;

            -- User search matches any part of a username or email. No B-tree index serves LIKE '%term%', so a
            -- trigram full-text index over the two columns answers it (terms of 3+ characters), kept in step by triggers.
            CREATE VIRTUAL TABLE users_search USING fts5 (username, email, content = 'users', content_rowid = 'id', tokenize = 'trigram');
            INSERT INTO users_search (users_search) VALUES ('rebuild');
            CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
                INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
            END;
            CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
                INSERT INTO users_search (users_search, rowid, username, email) VALUES ('delete', old.id, old.username, old.email);
            END;
            CREATE TRIGGER users_search_update AFTER UPDATE OF username, email ON users BEGIN
                INSERT INTO users_search (users_search, rowid, username, email) VALUES ('delete', old.id, old.username, old.email);
                INSERT INTO users_search (rowid, username, email) VALUES (new.id, new.username, new.email);
            END;
            """;

    // The same two rules in PostgreSQL's terms: a trigger function refuses updates; pg_trgm's GIN index serves
    // ILIKE '%term%' on username and email (Data/SqlDialect.cs UserSearch).
    private const string PostgresOnly = """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END $$;
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX ix_users_search ON users USING gin (username gin_trgm_ops, email gin_trgm_ops);
            """;

    public override void Down()
    {
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql("""
            DROP INDEX ix_users_search;
            DROP TRIGGER audit_log_append_only ON audit_log;
            DROP FUNCTION audit_log_append_only();
            """);
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql("""
            DROP TRIGGER users_search_update;
            DROP TRIGGER users_search_delete;
            DROP TRIGGER users_search_insert;
            DROP TABLE users_search;
            DROP TRIGGER audit_log_append_only;
            """);
        Execute.Sql("""
            DROP TABLE passkey_ceremonies;
            DROP TABLE user_passkeys;
            DROP TABLE user_identities;
            DROP TABLE login_challenges;
            DROP TABLE user_recovery_codes;
            DROP TABLE user_totp;
            DROP TABLE rate_limit_windows;
            DROP TABLE audit_unsealed;
            DROP TABLE audit_log;
            DROP TABLE agent_configs;
            DROP TABLE access_tokens;
            DROP TABLE user_sessions;
            ALTER TABLE agents DROP COLUMN created_by;
            ALTER TABLE agents DROP COLUMN visible_to_roles;
            ALTER TABLE agents DROP COLUMN visible_to_users;
            ALTER TABLE users DROP COLUMN permissions;
            ALTER TABLE users DROP COLUMN must_change_password;
            DROP INDEX ix_users_locked_until;
            DROP INDEX ix_users_locked;
            ALTER TABLE users DROP COLUMN locked_until;
            ALTER TABLE users DROP COLUMN failed_login_attempts;
            """);
    }
}
