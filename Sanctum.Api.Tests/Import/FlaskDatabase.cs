namespace Sanctum.Api.Tests.Import;

/// <summary>
/// An old-format database of the Flask control panel (sanctumos/installer control/), built from the facts of its
/// schema: SQLAlchemy's users/agents/system_config/user_sessions/schema_version (timestamps as "YYYY-MM-DD HH:MM:SS",
/// with microseconds where Python wrote them), and the chat bridge's web_chat_* and rate_limits tables keyed by a text
/// session_id. Its admin carries a $2b$ bcrypt hash of admin123, the way Python's bcrypt seeded it.
/// </summary>
public static class FlaskDatabase
{
    public const string AdminPassword = "admin123";
    public const string ViewerPassword = "vera-password-1";
    public const string OpenAiKey = "sk-old-openai-key-0123456789";
    public const string LettaToken = "letta-old-token-abcdef";
    public const string BotToken = "discord-bot-token-xyz";
    public const string DefaultApiKey = "ObeyG1ant";
    public const string DefaultAdminKey = "FreeUkra1ne";

    public static string Create(string directory, bool withChat = true)
    {
        var path = Path.Combine(directory, $"sanctum_ui-{Guid.NewGuid():N}.db");
        // Python's sqlite3 leaves foreign keys unenforced, so the old file may hold a message whose session is gone.
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, ForeignKeys = false }.ToString());
        db.Open();
        db.Execute("""
            CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, username VARCHAR(50) NOT NULL UNIQUE, email VARCHAR(100) NOT NULL UNIQUE,
                password_hash VARCHAR(255) NOT NULL, role VARCHAR(20), permissions TEXT, is_active BOOLEAN, failed_login_attempts INTEGER,
                last_login DATETIME, created_at DATETIME, updated_at DATETIME);
            CREATE TABLE user_sessions (id VARCHAR(100) NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                session_token VARCHAR(255) NOT NULL UNIQUE, expires_at DATETIME NOT NULL, ip_address VARCHAR(45), user_agent TEXT, created_at DATETIME);
            CREATE TABLE agents (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, letta_uid VARCHAR(100) NOT NULL UNIQUE,
                description TEXT, status VARCHAR(50), created_by INTEGER, config TEXT, is_active BOOLEAN, visible_to_users TEXT,
                visible_to_roles TEXT, created_at DATETIME, updated_at DATETIME);
            CREATE TABLE system_config (id INTEGER NOT NULL PRIMARY KEY, config_key VARCHAR(100) NOT NULL UNIQUE, config_value TEXT NOT NULL,
                description TEXT, created_at DATETIME, updated_at DATETIME);
            CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at DATETIME, description TEXT);
            CREATE TABLE rate_limits (id INTEGER PRIMARY KEY AUTOINCREMENT, ip_address TEXT NOT NULL, endpoint TEXT NOT NULL,
                count INTEGER DEFAULT 1, window_start DATETIME DEFAULT CURRENT_TIMESTAMP, UNIQUE (ip_address, endpoint, window_start));
            """);
        db.Execute("""
            INSERT INTO users VALUES
                (1, 'admin', 'admin@sanctum.local', @adminHash, 'admin', '["*"]', 1, 0, '2025-08-31 16:41:04.385050', '2025-08-31 16:39:45', '2025-08-31 16:41:04'),
                (2, 'vera', 'vera@example.test', @viewerHash, 'viewer', '[]', 1, 0, NULL, '2025-09-01 08:00:00', '2025-09-01 08:00:00'),
                (3, 'ursula', 'ursula@example.test', @viewerHash, 'user', '[]', 0, 2, NULL, '2025-09-02 09:30:00', '2025-09-02 09:30:00'),
                (4, 'shadow', 'ADMIN@SANCTUM.LOCAL ', @viewerHash, 'user', '[]', 1, 0, NULL, '2025-09-03 10:00:00', '2025-09-03 10:00:00');
            INSERT INTO user_sessions VALUES ('s1', 1, 'old-session-token', '2025-09-01 16:41:04.393881', '127.0.0.1', 'Mozilla/5.0', '2025-08-31 16:41:04');
            INSERT INTO agents VALUES
                (1, 'Iris', 'iris_letta_001', 'The flagship agent', 'active', 1, '{"version": "0.8.3"}', 1, '[2]', NULL, '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                (2, 'Athena', 'athena_letta_002', 'Athena as the old panel knew her', 'Healthy', 1, NULL, 1, NULL, NULL, '2025-08-31 16:39:45', '2025-08-31 16:39:45');
            INSERT INTO system_config (config_key, config_value, description, created_at, updated_at) VALUES
                ('api_key', @defaultApiKey, 'API key for external integrations', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('admin_key', @defaultAdminKey, 'Admin authentication key', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('flask_port', '5000', 'Flask application port', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('openai_api_key', @openAiKey, 'OpenAI API key', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('anthropic_api_key', '', 'Anthropic API key', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('letta_server_token', @lettaToken, 'Letta server token', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('letta_server_active', 'true', 'Letta server connection status', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('session_timeout', '900', 'Chat session timeout in seconds', '2025-08-31 16:39:45', '2025-08-31 16:39:45'),
                ('discord_bot_token', @botToken, NULL, '2025-08-31 16:39:45', '2025-08-31 16:39:45');
            INSERT INTO schema_version VALUES (1, '2025-08-31 16:39:45', 'Initial MVP schema');
            INSERT INTO rate_limits (ip_address, endpoint, count, window_start) VALUES ('127.0.0.1', '/api/responses', 1, '2025-08-31 11:31:28');
            """,
            new
            {
                adminHash = BCrypt.Net.BCrypt.HashPassword(AdminPassword, BCrypt.Net.BCrypt.GenerateSalt(4, 'b')),
                viewerHash = BCrypt.Net.BCrypt.HashPassword(ViewerPassword, BCrypt.Net.BCrypt.GenerateSalt(4, 'b')),
                defaultApiKey = DefaultApiKey, defaultAdminKey = DefaultAdminKey, openAiKey = OpenAiKey, lettaToken = LettaToken, botToken = BotToken,
            });
        if (withChat) AddChat(db);
        return path;
    }

    private static void AddChat(SqliteConnection db) => db.Execute("""
        CREATE TABLE web_chat_sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT UNIQUE NOT NULL, uid TEXT NOT NULL,
            ip_address TEXT, user_agent TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP, last_activity DATETIME DEFAULT CURRENT_TIMESTAMP,
            is_active INTEGER DEFAULT 1, metadata TEXT DEFAULT '{}');
        CREATE TABLE web_chat_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, message TEXT NOT NULL,
            message_type TEXT DEFAULT 'user', processed INTEGER DEFAULT 0, timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, metadata TEXT DEFAULT '{}',
            FOREIGN KEY (session_id) REFERENCES web_chat_sessions (session_id));
        CREATE TABLE web_chat_responses (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, response_id TEXT UNIQUE,
            response TEXT NOT NULL, message_id INTEGER, status TEXT DEFAULT 'sent', timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
            updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, metadata TEXT DEFAULT '{}', FOREIGN KEY (session_id) REFERENCES web_chat_sessions (session_id));
        INSERT INTO web_chat_sessions (session_id, uid, ip_address, created_at, last_activity, is_active) VALUES
            ('session_1756658785130_0q3nq89hz', 'ad1087eaa26df52a', '127.0.0.1', '2025-08-31 16:46:25', '2025-08-31 16:47:00', 1),
            ('session_1756660509090_plg546mr1', '0208511a97f9bd49', '127.0.0.1', '2025-08-31 17:15:09', '2025-08-31 17:15:09', 1);
        INSERT INTO web_chat_messages (id, session_id, message, processed, timestamp) VALUES
            (10, 'session_1756658785130_0q3nq89hz', 'hello there', 1, '2025-08-31 16:46:25'),
            (11, 'session_1756658785130_0q3nq89hz', 'are you still there?', 0, '2025-08-31 16:47:00'),
            (12, 'session_1756660509090_plg546mr1', 'a second chat', 1, '2025-08-31 17:15:09'),
            (13, 'session_gone', 'a message whose session was deleted', 1, '2025-08-31 17:20:00');
        INSERT INTO web_chat_responses (session_id, response, message_id, status, timestamp) VALUES
            ('session_1756658785130_0q3nq89hz', 'General Kenobi.', 10, 'sent', '2025-08-31 16:46:43'),
            ('session_1756660509090_plg546mr1', 'Second answer.', 12, 'sent', '2025-08-31 17:15:25');
        """);
}
