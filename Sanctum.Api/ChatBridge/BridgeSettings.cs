using System.Globalization;
using System.Data;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's settings kept in system_config (category chat), with the protocol's bounds.</summary>
public static partial class BridgeSettings
{
    public const string MaxMessageLengthKey = "max_message_length";
    public const string SessionTimeoutKey = "session_timeout";

    /// <summary>The boolean system setting that opens the public web chat to people who are not signed in (off when absent).</summary>
    public const string AllowAnonymousKey = "chat_allow_anonymous";

    public const int DefaultSessionTimeout = 1800;
    public const int MinSessionTimeout = 60;
    public const int MaxSessionTimeout = 365 * 24 * 3600;

    /// <summary>The longest message accepted: the configured value within 1..10,000.</summary>
    public static int MaxMessageLength(SqliteConnection db, SqliteTransaction? tx = null) =>
        Math.Clamp(Read(db, tx, MaxMessageLengthKey) ?? BridgeInput.MaxMessageLength, 1, BridgeInput.MaxMessageLength);

    /// <summary>Seconds a session may stay idle before cleanup removes it.</summary>
    public static int SessionTimeout(SqliteConnection db, SqliteTransaction? tx = null) =>
        Math.Clamp(Read(db, tx, SessionTimeoutKey) ?? DefaultSessionTimeout, MinSessionTimeout, MaxSessionTimeout);

    /// <summary>Whether anonymous web chat is allowed: only an explicit true turns it on.</summary>
    public static bool AllowAnonymous(IDbConnection db) =>
        db.QuerySingleOrDefault<string>("SELECT config_value FROM system_config WHERE config_key = @key", new { key = AllowAnonymousKey })?.Trim()
            is { } value && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    /// <summary>The bounds a setting must lie in to be written.</summary>
    public static (int Min, int Max)? Bounds(string key) => key switch
    {
        MaxMessageLengthKey => (1, BridgeInput.MaxMessageLength),
        SessionTimeoutKey => (MinSessionTimeout, MaxSessionTimeout),
        _ => null,
    };

    public static void Write(SqliteConnection db, SqliteTransaction tx, string key, int value, string now) =>
        db.Execute("""
            INSERT INTO system_config (config_key, config_value, config_type, category, created_at, updated_at)
            VALUES (@key, @value, 'number', 'chat', @now, @now)
            ON CONFLICT (config_key) DO UPDATE SET config_value = excluded.config_value, config_type = 'number', is_encrypted = 0, updated_at = excluded.updated_at
            """, new { key, value = value.ToString(CultureInfo.InvariantCulture), now }, tx);

    private static int? Read(SqliteConnection db, SqliteTransaction? tx, string key)
    {
        var text = db.QuerySingleOrDefault<string>("SELECT config_value FROM system_config WHERE config_key = @key", new { key }, tx);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? (int)Math.Clamp(Math.Floor(value), int.MinValue, int.MaxValue)
            : null;
    }

    /// <summary>
    /// Other settings a bridge client keeps through config: system_config rows named chat_bridge.NAME (category
    /// chat_bridge), never encrypted, so they can hold nothing the bridge must not show.
    /// </summary>
    public static partial class Extra
    {
        public const string Prefix = "chat_bridge.";
        public const string Category = "chat_bridge";
        public const int MaxCount = 50, MaxNameLength = 64, MaxValueLength = 1000;

        [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,63}\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
        private static partial System.Text.RegularExpressions.Regex Name();

        private static readonly string[] SecretWords = ["key", "secret", "token", "password", "credential"];

        /// <summary>Why the setting cannot be stored, or null when it can.</summary>
        public static string? Refusal(string name, System.Text.Json.JsonElement value)
        {
            if (!Name().IsMatch(name)) return $"Unknown setting: {name}";
            if (SecretWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase)))
                return $"Setting {name} looks like a secret: secrets are not kept in the bridge's settings";
            if (value.ValueKind is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number
                    or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False or System.Text.Json.JsonValueKind.Null))
                return $"Invalid {name}: a string, number, boolean or null is required";
            return Text(value) is { Length: > MaxValueLength } ? $"Invalid {name}: at most {MaxValueLength} characters" : null;
        }

        public static string? Text(System.Text.Json.JsonElement value) => value.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => value.GetString(),
            System.Text.Json.JsonValueKind.Null => null,
            _ => value.GetRawText(),
        };

        /// <summary>Stores the setting, or removes it when the value is null.</summary>
        public static void Write(IDbConnection db, IDbTransaction tx, string name, string? value, string now)
        {
            if (value is null)
            {
                db.Execute("DELETE FROM system_config WHERE config_key = @key AND is_encrypted = 0", new { key = Prefix + name }, tx);
                return;
            }
            db.Execute("""
                INSERT INTO system_config (config_key, config_value, config_type, category, created_at, updated_at)
                VALUES (@key, @value, 'string', @category, @now, @now)
                ON CONFLICT (config_key) DO UPDATE SET config_value = excluded.config_value, updated_at = excluded.updated_at
                WHERE system_config.is_encrypted = 0
                """, new { key = Prefix + name, value, category = Category, now }, tx);
        }

        public static long Count(IDbConnection db, IDbTransaction? tx) =>
            db.ExecuteScalar<long>("SELECT COUNT(*) FROM system_config WHERE category = @category AND is_encrypted = 0", new { category = Category }, tx);

        public static IReadOnlyDictionary<string, string> All(IDbConnection db, IDbTransaction? tx) =>
            db.Query<(string Key, string? Value)>("""
                SELECT config_key, config_value FROM system_config WHERE category = @category AND is_encrypted = 0 ORDER BY config_key
                """, new { category = Category }, tx)
                .Where(row => row.Key.StartsWith(Prefix, StringComparison.Ordinal))
                .ToDictionary(row => row.Key[Prefix.Length..], row => row.Value ?? "");
    }
}
