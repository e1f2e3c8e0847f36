using FluentMigrator;
using static Sanctum.Migrations.SchemaSql;

namespace Sanctum.Migrations;

/// <summary>Phase 1 of the plan: tools, agents and users, with the plan's sample data.</summary>
[Migration(1, "Phase 1: minimal schema (tools, agents, users)")]
public sealed class Phase1MinimalSchema(SeedSettings? seed = null) : Migration
{
    private readonly SeedSettings _seed = seed ?? new SeedSettings();

    public override void Up()
    {
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(PostgresFunctions);
        IfDatabase(SchemaSql.Sqlite.Engine).Execute.Sql(Tables(SchemaSql.Sqlite));
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(Tables(SchemaSql.Postgres));

        // The plan's emoji arrived mis-encoded (UTF-8 read as Mac Roman); these are the real ones.
        Tool("system-settings", "System Settings", "Base ports, paths, environment variables", "⚙️", "master", "Healthy", "/system-settings");
        Tool("install-tool", "Install Module", "Quick setup & upgrades", "🧰", "master", "Healthy", "/install-tool");
        Tool("cron-scheduler", "Cron Scheduler", "Automated module execution", "⏰", "master", "Healthy", "/cron-scheduler");
        Tool("create-agent", "Create Agent", "Add new Prime agent to system", "➕", "master", "Ready", "/create-agent");
        Tool("backup-restore", "Backup/Restore", "System backup & recovery tools", "📁", "master", "Ready", "/backup-restore");
        Tool("chat-settings", "Chat Settings", "Model, voice, safety, persona", "💬", "athena", "Healthy", "/chat-settings");
        Tool("broca", "Broca", "Streams & tool I/O", "🛰️", "athena", "Healthy", "/broca-settings");

        Agent("athena", "Athena", "Athena Prime", "Sanctum Configuration Assistant");
        Agent("monday", "Monday", "Monday Prime", "Task Management Specialist");
        Agent("timbre", "Timbre", "Timbre Prime", "Audio Processing Expert");

        // Hashed here, at install time: never a hash string copied from elsewhere. Through a command of its own, not
        // Insert.IntoTable: FluentMigrator logs the SQL it generates, values included, and no hash may reach a log.
        var hash = _seed.AdminPasswordHash ?? BCrypt.Net.BCrypt.HashPassword(_seed.AdminPassword, _seed.BcryptWorkFactor);
        Execute.WithConnection((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO users (username, email, password_hash, role, status)
                VALUES ('admin', 'admin@sanctum.local', @hash, 'admin', 'active')
                """;
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@hash";
            parameter.Value = hash;
            command.Parameters.Add(parameter);
            command.ExecuteNonQuery();
        });
    }

    private static string Tables(SchemaSql d) => $"""
            CREATE TABLE tools (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT,
                emoji TEXT,
                category TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'Healthy' CHECK (status IN ({HealthStatuses})),
                route_path TEXT,
                is_enabled {d.Bool("is_enabled")} NOT NULL DEFAULT TRUE,
                {d.Timestamps}
            );
            CREATE INDEX ix_tools_category ON tools (category);

            CREATE TABLE agents (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                display_name TEXT,
                description TEXT,
                status TEXT NOT NULL DEFAULT 'Healthy' CHECK (status IN ({HealthStatuses})),
                is_active {d.Bool("is_active")} NOT NULL DEFAULT TRUE,
                {d.Timestamps}
            );

            CREATE TABLE users (
                id {d.Id},
                username TEXT NOT NULL UNIQUE,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin','user','viewer')),
                status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','locked')),
                last_login TEXT,
                {d.Timestamps}
            );
            -- Usernames and emails are unique whatever their case, on both engines (lower() folds ASCII on both).
            CREATE UNIQUE INDEX ux_users_username_lower ON users (lower(username));
            CREATE UNIQUE INDEX ux_users_email_lower ON users (lower(email));
            """;

    /// <summary>
    /// The SQLite JSON functions the schema and the queries use, for PostgreSQL, so that their SQL is written once:
    /// json_valid; json_type ('object' and 'array' as SQLite names them, other kinds as jsonb_typeof does);
    /// json_each of an array (its elements as text: compare with CAST(@x AS TEXT)); json_extract with a '$.a.b' path (as text).
    /// </summary>
    private const string PostgresFunctions = """
        CREATE OR REPLACE FUNCTION json_valid(value text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN
            PERFORM value::jsonb;
            RETURN true;
        EXCEPTION WHEN others THEN
            RETURN false;
        END $$;
        CREATE OR REPLACE FUNCTION json_type(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT jsonb_typeof(value::jsonb)
        $$;
        CREATE OR REPLACE FUNCTION json_each(value text) RETURNS TABLE (value text) LANGUAGE sql IMMUTABLE AS $$
            SELECT jsonb_array_elements_text(value::jsonb)
        $$;
        CREATE OR REPLACE FUNCTION json_extract(value text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
            SELECT (value::jsonb) #>> string_to_array(substr(path, 3), '.')
        $$;
        """;

    public override void Down()
    {
        Delete.Table("users");
        Delete.Table("agents");
        Delete.Table("tools");
        IfDatabase(SchemaSql.Postgres.Engine).Execute.Sql(
            "DROP FUNCTION json_extract(text, text); DROP FUNCTION json_each(text); DROP FUNCTION json_type(text); DROP FUNCTION json_valid(text);");
    }

    private void Tool(string id, string name, string description, string emoji, string category, string status, string routePath) =>
        Insert.IntoTable("tools").Row(new { id, name, description, emoji, category, status, route_path = routePath });

    // Off until a relay polls the agent's inbox (Phase 4 names that as the status's source and reason): a seeded agent
    // is not Healthy on a fresh install.
    private void Agent(string id, string name, string displayName, string description) =>
        Insert.IntoTable("agents").Row(new { id, name, display_name = displayName, description, status = "Off" });
}
