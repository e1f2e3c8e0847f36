using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's settings kept in system_config (category chat), with the protocol's bounds.</summary>
public static class BridgeSettings
{
    public const string MaxMessageLengthKey = "max_message_length";
    public const string SessionTimeoutKey = "session_timeout";

    public const int DefaultSessionTimeout = 1800;
    public const int MinSessionTimeout = 60;
    public const int MaxSessionTimeout = 365 * 24 * 3600;

    /// <summary>The longest message accepted: the configured value within 1..10,000.</summary>
    public static int MaxMessageLength(SqliteConnection db, SqliteTransaction? tx = null) =>
        Math.Clamp(Read(db, tx, MaxMessageLengthKey) ?? BridgeInput.MaxMessageLength, 1, BridgeInput.MaxMessageLength);

    /// <summary>Seconds a session may stay idle before cleanup removes it.</summary>
    public static int SessionTimeout(SqliteConnection db, SqliteTransaction? tx = null) =>
        Math.Clamp(Read(db, tx, SessionTimeoutKey) ?? DefaultSessionTimeout, MinSessionTimeout, MaxSessionTimeout);

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
}
