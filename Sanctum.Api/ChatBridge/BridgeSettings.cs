using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Sanctum.Api.Settings;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's settings kept in system_config (category chat); their bounds are the catalogue's.</summary>
public static class BridgeSettings
{
    public const string MaxMessageLengthKey = "max_message_length";
    public const string SessionTimeoutKey = "session_timeout";

    public const int DefaultSessionTimeout = 1800;

    /// <summary>The longest message accepted: the configured value within its catalogue bounds.</summary>
    public static int MaxMessageLength(SqliteConnection db, SqliteTransaction? tx = null) => Read(db, tx, MaxMessageLengthKey, BridgeInput.MaxMessageLength);

    /// <summary>Seconds a session may stay idle before cleanup removes it.</summary>
    public static int SessionTimeout(SqliteConnection db, SqliteTransaction? tx = null) => Read(db, tx, SessionTimeoutKey, DefaultSessionTimeout);

    /// <summary>The bounds a setting must lie in to be written through the bridge; null for anything else.</summary>
    public static (int Min, int Max)? Bounds(string key) =>
        key is MaxMessageLengthKey or SessionTimeoutKey && SettingCatalogue.Find(key) is { Minimum: { } min, Maximum: { } max }
            ? ((int)min, (int)max) : null;

    private static int Read(SqliteConnection db, SqliteTransaction? tx, string key, int fallback)
    {
        var (min, max) = Bounds(key)!.Value;
        var text = db.QuerySingleOrDefault<string>("SELECT config_value FROM system_config WHERE config_key = @key", new { key }, tx);
        var value = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? (int)Math.Clamp(Math.Floor(number), int.MinValue, int.MaxValue)
            : fallback;
        return Math.Clamp(value, min, max);
    }
}
