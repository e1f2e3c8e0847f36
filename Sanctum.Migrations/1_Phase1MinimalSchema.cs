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
        Execute.Sql($"""
            CREATE TABLE tools (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT,
                emoji TEXT,
                category TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'Healthy' CHECK (status IN ({HealthStatuses})),
                route_path TEXT,
                is_enabled INTEGER NOT NULL DEFAULT 1 {Bool("is_enabled")},
                {Timestamps}
            );
            CREATE INDEX ix_tools_category ON tools (category);

            CREATE TABLE agents (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                display_name TEXT,
                description TEXT,
                status TEXT NOT NULL DEFAULT 'Healthy' CHECK (status IN ({HealthStatuses})),
                is_active INTEGER NOT NULL DEFAULT 1 {Bool("is_active")},
                {Timestamps}
            );

            CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                username TEXT NOT NULL UNIQUE,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin','user','viewer')),
                status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','locked')),
                last_login TEXT,
                {Timestamps}
            );
            """);

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

    public override void Down()
    {
        Delete.Table("users");
        Delete.Table("agents");
        Delete.Table("tools");
    }

    private void Tool(string id, string name, string description, string emoji, string category, string status, string routePath) =>
        Insert.IntoTable("tools").Row(new { id, name, description, emoji, category, status, route_path = routePath });

    private void Agent(string id, string name, string displayName, string description) =>
        Insert.IntoTable("agents").Row(new { id, name, display_name = displayName, description, status = "Healthy" });
}
