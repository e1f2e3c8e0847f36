using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json;
using Dapper;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Import;

/// <summary>
/// Old <c>system_config</c> rows into this one's through the settings core (typed, checked against the catalogue,
/// secret names encrypted, history kept). The old value wins over one here (the
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

    public const string Actor = "import-flask";

    public static async Task RunAsync(ImportContext context)
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
            if (SettingStore.SystemConfig.KeyProblem(key) is not null)
            {
                report.Skip("not a valid key name here", oldKey);
                continue;
            }

            var at = SettingAddress.System(key);
            var current = await context.Settings.FindAsync(context.Target, at, context.Transaction);
            var currentText = current is null ? null : current.IsEncrypted ? context.Secrets.Unprotect(current.Value) : current.Value;

            if (WellKnownDefaults.TryGetValue(key, out var publicDefault) && value == publicDefault)
            {
                if (string.IsNullOrEmpty(currentText))
                {
                    await WriteAsync(context, at, current, Secrets.NewKey(), old.Description, report,
                        $"{key} (the old '{oldKey}' was the well-known default: a new random key was made)");
                }
                else
                {
                    report.Skip("well-known default key, not carried over: this install's random key stays", oldKey);
                }
                context.Report.Notes.Add($"{key}: give the relay (Broca) this install's key; an admin reads it with GET /api/config/{key}?reveal=true.");
                continue;
            }
            if (currentText == value)
            {
                report.Skip("already the same here", key);
                continue;
            }
            if (value.Length == 0)
            {
                report.Skip("empty in the old database; the value here stays", key);
                continue;
            }
            await WriteAsync(context, at, current, value, old.Description, report, key);
        }
    }

    /// <summary>
    /// Through the settings core, in the import's transaction: its key, type and catalogue rules, encryption of secret
    /// names, the bridge keys' digests, and a history entry by "import-flask". A value the rules refuse is skipped.
    /// </summary>
    private static async Task WriteAsync(ImportContext context, SettingAddress at, StoredSetting? current, string value, string? description,
        TableReport report, string replaced)
    {
        var outcome = await context.Settings.ApplyAsync(context.Target, context.Transaction, at, new SettingWrite
        {
            Value = JsonSerializer.SerializeToElement(value),
            // A known key's type comes from the catalogue and a present one keeps its own; a new one's is read from the text.
            Type = current is null && SettingCatalogue.Find(at.Key) is null ? ConfigKeys.IsSecretName(at.Key) ? "string" : TypeOf(value) : null,
            Description = current is null ? description : null,
        }, http: null, Actor);
        if (!outcome.Succeeded)
        {
            var why = outcome.Errors?.ToDictionary().SelectMany(e => e.Value).FirstOrDefault() ?? outcome.Detail ?? $"refused ({outcome.Status})";
            report.Skip($"refused here: {why}", at.Key);
            return;
        }
        context.AfterCommit.Add(() => context.Settings.Committed(outcome, at, null));
        if (current is null) report.Import();
        else report.Replace(replaced);
    }

    /// <summary>The type a new key's text reads as: true/false, a plain decimal number, a JSON object or list, else string.</summary>
    private static string TypeOf(string value) => value switch
    {
        "true" or "false" => "boolean",
        _ when PlainNumber().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => "number",
        _ when value.TrimStart() is ['{' or '[', ..] && ImportContext.Json(value) is not null => "json",
        _ => "string",
    };

    [GeneratedRegex(@"^-?[0-9]{1,15}(\.[0-9]{1,15})?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();

    private sealed class OldSetting
    {
        public string? ConfigKey { get; init; }
        public string? ConfigValue { get; init; }
        public string? Description { get; init; }
    }
}
