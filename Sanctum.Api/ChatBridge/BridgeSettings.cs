using System.Data;
using Dapper;
using System.Data.Common;
using Sanctum.Api.Settings;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's settings kept in system_config (category chat); their bounds are the catalogue's.</summary>
public static partial class BridgeSettings
{
    public const string MaxMessageLengthKey = "max_message_length";
    public const string SessionTimeoutKey = "session_timeout";

    /// <summary>The boolean system setting that opens the public web chat to people who are not signed in (off when absent).</summary>
    public const string AllowAnonymousKey = "chat_allow_anonymous";

    public const int DefaultSessionTimeout = 1800;

    /// <summary>The longest message accepted: the configured value within its catalogue bounds.</summary>
    public static Task<int> MaxMessageLengthAsync(DbConnection db, DbTransaction? tx = null) => ReadAsync(db, tx, MaxMessageLengthKey, BridgeInput.MaxMessageLength);

    /// <summary>Seconds a session may stay idle before cleanup removes it.</summary>
    public static Task<int> SessionTimeoutAsync(DbConnection db, DbTransaction? tx = null) => ReadAsync(db, tx, SessionTimeoutKey, DefaultSessionTimeout);

    /// <summary>Whether anonymous web chat is allowed (the catalogue's boolean chat_allow_anonymous, read as the settings core reads booleans): only true turns it on.</summary>
    public static async Task<bool> AllowAnonymousAsync(DbConnection db) =>
        ConfigValues.TryBoolean(await SettingsCore.PlainTextAsync(db, SettingAddress.System(AllowAnonymousKey)), out var allowed) && allowed;

    /// <summary>The bounds a setting must lie in to be written through the bridge; null for anything else.</summary>
    public static (int Min, int Max)? Bounds(string key) =>
        key is MaxMessageLengthKey or SessionTimeoutKey && SettingCatalogue.Find(key) is { Minimum: { } min, Maximum: { } max }
            ? ((int)min, (int)max) : null;

    private static async Task<int> ReadAsync(DbConnection db, DbTransaction? tx, string key, int fallback)
    {
        var (min, max) = Bounds(key)!.Value;
        var value = ConfigValues.TryNumber(await SettingsCore.PlainTextAsync(db, SettingAddress.System(key), tx), out var number)
            ? (int)Math.Clamp(Math.Floor(number), int.MinValue, int.MaxValue)
            : fallback;
        return Math.Clamp(value, min, max);
    }

    /// <summary>
    /// Other settings a bridge client keeps through config: system_config rows named chat_bridge.NAME (category
    /// chat_bridge), written through the settings core, never encrypted, so they hold nothing the bridge must not show.
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
                    or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
                return $"Invalid {name}: a string, number or boolean is required";
            return Text(value) is { Length: > MaxValueLength } ? $"Invalid {name}: at most {MaxValueLength} characters" : null;
        }

        public static string Text(System.Text.Json.JsonElement value) =>
            value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString()! : value.GetRawText();

        public static Task<long> CountAsync(IDbConnection db, IDbTransaction? tx) =>
            db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM system_config WHERE category = @category AND is_encrypted = FALSE", new { category = Category }, tx);

        public static async Task<IReadOnlyDictionary<string, string>> AllAsync(IDbConnection db, IDbTransaction? tx) =>
            (await db.QueryAsync<StoredSetting>($"{SettingStore.SystemConfig.Select} WHERE t.category = @category AND t.is_encrypted = FALSE ORDER BY t.config_key",
                new { category = Category }, tx))
                .Where(row => row.Key.StartsWith(Prefix, StringComparison.Ordinal))
                .ToDictionary(row => row.Key[Prefix.Length..], row => row.Value ?? "");
    }
}
