using System.Globalization;
using System.Text.Json;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Config;
using Sanctum.Api.Data;
using Sanctum.Api.Settings;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's admin actions (admin key): list sessions, read and change its settings, clean up.</summary>
public sealed class BridgeAdmin(
    DbConnection db, TimeProvider clock, BridgeGate gate, BridgeRateLimits limits, IConfiguration configuration,
    SettingsCore settings)
{
    public IResult Sessions(HttpContext http, string? limitText, string? offsetText, string? activeText)
    {
        var (_, refusal) = gate.Admit(http, "sessions", adminOnly: true);
        if (refusal is not null) return refusal;
        if (BridgeInput.Paging(limitText, offsetText, out var error) is not { } paging) return BridgeResults.Error(StatusCodes.Status400BadRequest, error!);
        var (limit, offset) = paging;
        var active = false;
        if (!string.IsNullOrEmpty(activeText) && !bool.TryParse(activeText, out active))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid active parameter");

        // The page first (an index walk from the newest), then the count: no sort of every session before paging.
        var filter = new { since = active ? Timestamp.From(clock.GetUtcNow().AddDays(-1)) : null, limit, offset };
        var sessions = db.Query<BridgeSession>(SessionsPageSql(active), filter).ToList();
        var total = sessions.Count < limit && (sessions.Count > 0 || offset == 0)
            ? offset + sessions.Count
            : db.ExecuteScalar<long>(SessionsCountSql(active), filter);
        return BridgeResults.Ok(new SessionsData(sessions, new Pagination(total, limit, offset, offset + sessions.Count < total)));
    }

    public static string SessionsPageSql(bool active) => $"""
        SELECT s.id, s.uid, s.user_id, s.agent_id, s.created_at, s.last_active, s.ip_address,
               (SELECT COUNT(*) FROM web_chat_messages m WHERE m.session_id = s.id) AS message_count,
               (SELECT COUNT(*) FROM web_chat_responses r WHERE r.session_id = s.id) AS response_count
        FROM web_chat_sessions s
        {(active ? "WHERE s.last_active >= @since" : "")}
        ORDER BY s.last_active DESC, s.id DESC
        LIMIT @limit OFFSET @offset
        """;

    public static string SessionsCountSql(bool active) =>
        active ? "SELECT COUNT(*) FROM web_chat_sessions WHERE last_active >= @since" : "SELECT COUNT(*) FROM web_chat_sessions";

    public IResult GetConfig(HttpContext http)
    {
        var (_, refusal) = gate.Admit(http, "config", adminOnly: true);
        return refusal ?? BridgeResults.Ok(CurrentConfig(tx: null));
    }

    /// <summary>
    /// Changes max_message_length and/or session_timeout (validated), and stores any other key as a plain bridge setting
    /// (<see cref="BridgeSettings.Extra"/>): bounded names, values and count; nothing secret is readable or writable here.
    /// </summary>
    public async Task<IResult> PostConfig(HttpContext http)
    {
        var (_, refusal) = gate.Admit(http, "config", adminOnly: true);
        if (refusal is not null) return refusal;
        var body = await BridgeInput.ReadBodyAsync(http);
        if (body.Unread(http) is { } unread) return unread;
        if (body.Malformed || !body.IsObject) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid JSON");

        var changes = new List<(string Key, int Value)>();
        var extras = new List<(string Name, string Value)>();
        foreach (var property in body.Root!.Value.EnumerateObject())
        {
            if (property.Name == "rate_limits")
                return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Rate limits are set in the server configuration ({ChatBridgeOptions.Section})");
            if (BridgeSettings.Bounds(property.Name) is { } bounds)
            {
                var (min, max) = bounds;
                if (WholeNumber(property.Value) is not { } value || value < min || value > max)
                    return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Invalid {property.Name}: a whole number from {min} to {max} is required");
                changes.Add((property.Name, value));
                continue;
            }
            if (BridgeSettings.Extra.Refusal(property.Name, property.Value) is { } notStored)
                return BridgeResults.Error(StatusCodes.Status400BadRequest, notStored);
            extras.Add((property.Name, BridgeSettings.Extra.Text(property.Value)));
        }

        db.Open();
        using var tx = db.BeginTransaction();
        var written = new List<(SettingAddress At, SettingOutcome Outcome)>();
        // Through the settings core, so every change has its history entry and audit record like any other setting.
        var writes = changes.Select(c => (c.Key, new SettingWrite { Value = JsonSerializer.SerializeToElement(c.Value) }))
            .Concat(extras.Select(e => (BridgeSettings.Extra.Prefix + e.Name, new SettingWrite
            {
                Value = JsonSerializer.SerializeToElement(e.Value), Type = "string", Category = BridgeSettings.Extra.Category, IsEncrypted = false,
            })));
        foreach (var (key, write) in writes)
        {
            var at = SettingAddress.System(key);
            var outcome = settings.Apply(db, tx, at, write, http, Actor);
            if (!outcome.Succeeded)
                return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Invalid {key}: {outcome.Errors?.ToDictionary().Values.SelectMany(m => m).FirstOrDefault() ?? outcome.Detail}");
            written.Add((at, outcome));
        }
        if (BridgeSettings.Extra.Count(db, tx) > BridgeSettings.Extra.MaxCount)
            return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Too many bridge settings: at most {BridgeSettings.Extra.MaxCount}");
        var config = CurrentConfig(tx);
        tx.Commit();
        foreach (var (at, outcome) in written) settings.Committed(outcome, at, http);
        return BridgeResults.Ok(config);
    }

    private const string IdleSessions = "SELECT id FROM web_chat_sessions WHERE last_active < @cutoff";

    /// <summary>Deletes idle sessions' responses, then their messages, then the sessions (in that order).</summary>
    public static readonly string[] CleanupSql =
    [
        $"DELETE FROM web_chat_responses WHERE session_id IN ({IdleSessions})",
        $"DELETE FROM web_chat_messages WHERE session_id IN ({IdleSessions})",
        "DELETE FROM web_chat_sessions WHERE last_active < @cutoff",
    ];

    /// <summary>Deletes the sessions idle longer than session_timeout, with their messages and responses.</summary>
    public IResult Cleanup(HttpContext http)
    {
        var (_, refusal) = gate.Admit(http, "cleanup", adminOnly: true);
        if (refusal is not null) return refusal;
        db.Open();
        using var tx = db.BeginTransaction();
        var timeout = BridgeSettings.SessionTimeout(db, tx);
        var cutoff = new { cutoff = Timestamp.From(clock.GetUtcNow().AddSeconds(-timeout)) };
        db.Execute(CleanupSql[0], cutoff, tx);
        db.Execute(CleanupSql[1], cutoff, tx);
        var cleaned = db.Execute(CleanupSql[2], cutoff, tx);
        tx.Commit();
        return BridgeResults.Ok(new CleanupResult(cleaned, $"Removed {cleaned} session(s) idle for more than {timeout} seconds"));
    }

    /// <summary>Deletes every chat row and reports what was deleted and what actually remains.</summary>
    public IResult ClearData(HttpContext http)
    {
        var (_, refusal) = gate.Admit(http, "clear_data", adminOnly: true);
        if (refusal is not null) return refusal;
        db.Open();
        using var tx = db.BeginTransaction();
        var responses = db.Execute("DELETE FROM web_chat_responses", transaction: tx);
        var messages = db.Execute("DELETE FROM web_chat_messages", transaction: tx);
        var sessions = db.Execute("DELETE FROM web_chat_sessions", transaction: tx);
        var remaining = db.QuerySingle<ChatCounts>("""
            SELECT (SELECT COUNT(*) FROM web_chat_sessions) AS sessions, (SELECT COUNT(*) FROM web_chat_messages) AS messages,
                   (SELECT COUNT(*) FROM web_chat_responses) AS responses
            """, transaction: tx);
        tx.Commit();
        return BridgeResults.Ok(new ClearDataResult(new ChatCounts(sessions, messages, responses), remaining));
    }

    /// <summary>
    /// Sanctum.Api logs through ASP.NET Core logging to the console and keeps no bridge log files, so there is nothing
    /// to delete; the answer says so and names the settings in force rather than inventing figures.
    /// </summary>
    public IResult CleanupLogs(HttpContext http)
    {
        var (_, refusal) = gate.Admit(http, "cleanup_logs", adminOnly: true);
        if (refusal is not null) return refusal;
        var level = configuration["Logging:LogLevel:Default"] ?? "Information";
        return BridgeResults.Ok(new LogCleanupResult("console", level, 0,
            "Logs go to the console through ASP.NET Core logging (Logging:LogLevel); there are no bridge log files to delete."));
    }

    /// <summary>Who the settings history names for changes made with the bridge's admin key.</summary>
    public const string Actor = "chat-bridge";

    private BridgeConfig CurrentConfig(DbTransaction? tx) =>
        new(BridgeSettings.MaxMessageLength(db, tx), BridgeSettings.SessionTimeout(db, tx), limits.PerMinute)
        {
            Settings = BridgeSettings.Extra.All(db, tx).ToDictionary(e => e.Key, e => JsonSerializer.SerializeToElement(e.Value)),
        };

    // Numbers, or numeric strings as /api/config accepts them; only whole numbers.
    private static int? WholeNumber(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString(),
            _ => null,
        };
        if (ConfigValues.Check("number", text) is not null) return null;
        var number = double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue ? (int)number : null;
    }
}
