using System.Diagnostics;

namespace Sanctum.Api.Tests.Broca;

/// <summary>
/// A Broca instance folder as Broca lays it out: settings.json, .env, its SQLite database sanctum.db (our own CREATE
/// TABLE statements, after the facts of Broca's database/models.py) and logs/.
/// </summary>
public sealed class BrocaFolder : IDisposable
{
    public const string Schema = """
        CREATE TABLE letta_users (
            id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT DEFAULT CURRENT_TIMESTAMP, last_active TEXT,
            letta_identity_id TEXT, letta_block_id TEXT, agent_preferences TEXT, custom_instructions TEXT, is_active INTEGER DEFAULT 1);
        CREATE TABLE platform_profiles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id), platform TEXT,
            platform_user_id TEXT, username TEXT, display_name TEXT, metadata TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP,
            last_active TEXT, UNIQUE (platform, platform_user_id));
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id),
            platform_profile_id INTEGER REFERENCES platform_profiles (id), role TEXT, message TEXT, timestamp TEXT,
            processed INTEGER DEFAULT 0, agent_response TEXT);
        CREATE TABLE queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id),
            message_id INTEGER REFERENCES messages (id), status TEXT, attempts INTEGER DEFAULT 0,
            timestamp TEXT DEFAULT CURRENT_TIMESTAMP);
        """;

    public const string DefaultSettings = """
        {
            "debug_mode": false,
            "queue_refresh": 5,
            "max_retries": 3,
            "message_mode": "live",
            "plugin_extra": {"keep": [1, 2]}
        }

        """;

    public const string DefaultEnv = """
        # Broca 2 environment
        AGENT_ID=agent-123
        AGENT_ENDPOINT=http://localhost:8283
        AGENT_API_KEY=sk-live-secret
        # Telegram
        TELEGRAM_BOT_TOKEN="123:abc def"
        TELEGRAM_API_HASH=deadbeef
        SOMETHING_ELSE=kept # inline comment
        this line is not a variable
        MESSAGE_MODE=

        """;

    public string Home { get; }
    public string DatabasePath => Path.Combine(Home, "sanctum.db");
    public string SettingsPath => Path.Combine(Home, "settings.json");
    public string EnvPath => Path.Combine(Home, ".env");
    public string LogsPath => Path.Combine(Home, "logs");

    public BrocaFolder(bool database = true, bool settings = true)
    {
        Home = Path.Combine(Path.GetTempPath(), "sanctum-broca-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(LogsPath);
        if (settings) File.WriteAllText(SettingsPath, DefaultSettings);
        File.WriteAllText(EnvPath, DefaultEnv);
        if (database)
        {
            using var db = Open();
            db.Execute(Schema);
        }
    }

    public SqliteConnection Open()
    {
        var db = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        db.Open();
        return db;
    }

    /// <summary>A platform user with its Letta user and <paramref name="messages"/> messages; returns the profile id.</summary>
    public long AddUser(string platform, string platformUserId, string? username, string? displayName = null, int messages = 0, bool active = true)
    {
        using var db = Open();
        var letta = db.ExecuteScalar<long>("INSERT INTO letta_users (letta_identity_id, is_active) VALUES (@identity, @active) RETURNING id",
            new { identity = "identity-" + platformUserId, active = active ? 1 : 0 });
        var profile = db.ExecuteScalar<long>("""
            INSERT INTO platform_profiles (letta_user_id, platform, platform_user_id, username, display_name, last_active)
            VALUES (@letta, @platform, @platformUserId, @username, @displayName, '2026-12-01 10:00:00') RETURNING id
            """, new { letta, platform, platformUserId, username, displayName });
        for (var i = 0; i < messages; i++)
            db.Execute("INSERT INTO messages (letta_user_id, platform_profile_id, role, message, timestamp) VALUES (@letta, @profile, 'user', @text, '2026-12-01 10:00:00')",
                new { letta, profile, text = $"message {i} from {username}" });
        return profile;
    }

    /// <summary>Queue items of one status, each with its message from the given profile; returns their ids.</summary>
    public List<long> AddQueue(string status, int count, long profile, string timestamp = "2026-12-06 12:00:00", int attempts = 0)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        var ids = new List<long>();
        var letta = db.ExecuteScalar<long>("SELECT letta_user_id FROM platform_profiles WHERE id = @profile", new { profile }, tx);
        for (var i = 0; i < count; i++)
        {
            var message = db.ExecuteScalar<long>("INSERT INTO messages (letta_user_id, platform_profile_id, role, message, timestamp) VALUES (@letta, @profile, 'user', @text, @timestamp) RETURNING id",
                new { letta, profile, text = $"{status} {i}", timestamp }, tx);
            ids.Add(db.ExecuteScalar<long>("INSERT INTO queue (letta_user_id, message_id, status, attempts, timestamp) VALUES (@letta, @message, @status, @attempts, @timestamp) RETURNING id",
                new { letta, message, status, attempts, timestamp }, tx));
        }
        tx.Commit();
        return ids;
    }

    public Dictionary<string, long> StatusCounts()
    {
        using var db = Open();
        return db.Query<(string Status, long Count)>("SELECT status, COUNT(*) FROM queue GROUP BY status").ToDictionary(r => r.Status, r => r.Count);
    }

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Another process (the sqlite3 shell) holding the write lock of a Broca database inside an open transaction, as
/// Broca's own writer does, until disposed (then it rolls back).
/// </summary>
public sealed class BrocaWriterProcess : IDisposable
{
    private readonly Process _process;

    private BrocaWriterProcess(Process process) => _process = process;

    public static async Task<BrocaWriterProcess> HoldAsync(string databasePath)
    {
        var process = Process.Start(new ProcessStartInfo("sqlite3", [databasePath])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        await process.StandardInput.WriteLineAsync("BEGIN IMMEDIATE; UPDATE queue SET attempts = attempts WHERE id = (SELECT MIN(id) FROM queue); SELECT 'held';");
        await process.StandardInput.FlushAsync();
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(line, Is.EqualTo("held"), "the sqlite3 writer did not take the lock");
        return new BrocaWriterProcess(process);
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.WriteLine("ROLLBACK;");
            _process.StandardInput.WriteLine(".quit");
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000)) _process.Kill();
        }
        finally
        {
            _process.Dispose();
        }
    }
}
