using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Sanctum.Api.Config;

namespace Sanctum.Api.Import;

/// <summary>
/// Old <c>system_config</c> rows into this one's, typed, secrets encrypted. The old value wins over one here (the
/// operator asked to move in), except that an empty old value never clears a value here. The old chat bridge keys
/// become <c>chat_api_key</c> and <c>chat_admin_key</c>; the defaults every old install shipped with are public,
/// so they are never carried over: the key here is a new random one instead.
/// </summary>
public static partial class SettingImport
{
    /// <summary>Old keys with another name here.</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["api_key"] = "chat_api_key",
        ["admin_key"] = "chat_admin_key",
        ["flask_port"] = "api_port",
    };

    /// <summary>The bridge keys the old source ships as defaults (sanctumos/installer control/app.py and models.py).</summary>
    private static readonly Dictionary<string, string> WellKnownDefaults = new(StringComparer.Ordinal)
    {
        ["chat_api_key"] = "ObeyG1ant",
        ["chat_admin_key"] = "FreeUkra1ne",
    };

    public static bool IsSecretKey(string key) => SecretKey().IsMatch(key);

    public static void Run(ImportContext context)
    {
        var source = context.Source;
        var report = context.Report.Table("system_config");
        var rows = source.Connection.Query<OldSetting>($"""
            SELECT {source.Text("system_config", "config_key")}, {source.Text("system_config", "config_value")},
                   {source.Text("system_config", "description")}
            FROM system_config ORDER BY {(source.HasColumn("system_config", "id") ? "id" : "rowid")}
            """);
        foreach (var old in rows)
        {
            var oldKey = old.ConfigKey?.Trim() ?? "";
            var key = Renamed.GetValueOrDefault(oldKey, oldKey);
            var value = old.ConfigValue ?? "";
            if (!ConfigKeys.IsKey(key))
            {
                report.Skip("not a valid key name here", oldKey);
                continue;
            }

            var existing = context.Target.QuerySingleOrDefault<ExistingSetting>(
                "SELECT config_value, config_type, is_encrypted FROM system_config WHERE config_key = @key", new { key }, context.Transaction);
            var current = existing is null ? null : existing.IsEncrypted ? context.Secrets.Unprotect(existing.ConfigValue) : existing.ConfigValue;

            if (WellKnownDefaults.TryGetValue(key, out var publicDefault) && value == publicDefault)
            {
                if (string.IsNullOrEmpty(current))
                {
                    Write(context, key, Secrets.NewKey(), "string", encrypted: true, old.Description, existing is not null);
                    report.Replace($"{key} (the old '{oldKey}' was the well-known default: a new random key was made)");
                }
                else
                {
                    report.Skip("well-known default key, not carried over: this install's random key stays", oldKey);
                }
                context.Report.Notes.Add($"{key}: give the relay (Broca) this install's key; an admin reads it with GET /api/config/{key}?reveal=true.");
                continue;
            }
            if (current == value)
            {
                report.Skip("already the same here", key);
                continue;
            }
            if (value.Length == 0)
            {
                report.Skip("empty in the old database; the value here stays", key);
                continue;
            }

            var encrypted = IsSecretKey(key) || existing?.IsEncrypted == true;
            var type = encrypted ? "string" : existing?.ConfigType ?? TypeOf(value);
            if (ConfigValues.Check(type, value) is not null)
            {
                report.Skip($"not a {type} as this install expects", key);
                continue;
            }
            Write(context, key, value, type, encrypted, old.Description, existing is not null);
            if (existing is null) report.Import();
            else report.Replace(key);
        }
    }

    private static void Write(ImportContext context, string key, string value, string type, bool encrypted, string? description, bool exists)
    {
        var stored = encrypted ? context.Secrets.Protect(value) : value;
        if (exists)
        {
            context.Target.Execute("""
                UPDATE system_config SET config_value = @stored, config_type = @type, is_encrypted = @encrypted, updated_at = @now
                WHERE config_key = @key
                """, new { key, stored, type, encrypted = encrypted ? 1 : 0, now = context.Now }, context.Transaction);
        }
        else
        {
            context.Target.Execute("""
                INSERT INTO system_config (config_key, config_value, config_type, description, is_encrypted, category, created_at, updated_at)
                VALUES (@key, @stored, @type, @description, @encrypted, 'general', @now, @now)
                """, new { key, stored, type, description, encrypted = encrypted ? 1 : 0, now = context.Now }, context.Transaction);
        }
    }

    /// <summary>The type a new key's text reads as: true/false, a plain decimal number, a JSON object or list, else string.</summary>
    private static string TypeOf(string value) => value switch
    {
        "true" or "false" => "boolean",
        _ when PlainNumber().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => "number",
        _ when value.TrimStart() is ['{' or '[', ..] && ImportContext.Json(value) is not null => "json",
        _ => "string",
    };

    [GeneratedRegex(@"(_key|_token|_secret|_password)\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"^-?[0-9]{1,15}(\.[0-9]{1,15})?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();

    private sealed class OldSetting
    {
        public string? ConfigKey { get; init; }
        public string? ConfigValue { get; init; }
        public string? Description { get; init; }
    }

    private sealed class ExistingSetting
    {
        public string? ConfigValue { get; init; }
        public required string ConfigType { get; init; }
        public bool IsEncrypted { get; init; }
    }
}
