using System.Globalization;
using System.Text.Json;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;
using Sanctum.Api.Settings;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's admin actions (admin key): list sessions, read and change its settings, clean up.</summary>
public sealed class BridgeAdmin(
    DbConnection db, TimeProvider clock, BridgeRateLimits limits, IConfiguration configuration,
    SettingsCore settings)
{
    public async Task<IResult> Sessions(string? limitText, string? offsetText, string? activeText)
    {
        if (BridgeInput.Paging(limitText, offsetText, out var error) is not { } paging) return BridgeResults.Error(StatusCodes.Status400BadRequest, error!);
        var (limit, offset) = paging;
        var active = false;
        if (!string.IsNullOrEmpty(activeText) && !bool.TryParse(activeText, out active))
            return BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid active parameter");

        // The page first (an index walk from the newest), then the count: no sort of every session before paging.
        var filter = new { since = active ? Timestamp.From(clock.GetUtcNow().AddDays(-1)) : null, limit, offset };
        var sessions = (await db.QueryAsync<BridgeSession>(SessionsPageSql(active), filter)).ToList();
        var total = sessions.Count < limit && (sessions.Count > 0 || offset == 0)
            ? offset + sessions.Count
            : await db.ExecuteScalarAsync<long>(SessionsCountSql(active), filter);
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

    public async Task<IResult> GetConfig() => BridgeResults.Ok(await CurrentConfigAsync(tx: null));

    /// <summary>
    /// Changes max_message_length and/or session_timeout (validated), and stores any other key as a plain bridge setting
    /// (<see cref="BridgeSettings.Extra"/>): bounded names, values and count; nothing secret is readable or writable here.
    /// </summary>
    public async Task<IResult> PostConfig(HttpContext http, BridgeBody body)
    {
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

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
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
            var outcome = await settings.ApplyAsync(db, tx, at, write, http, Actor);
            if (!outcome.Succeeded)
                return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Invalid {key}: {outcome.Errors?.ToDictionary().Values.SelectMany(m => m).FirstOrDefault() ?? outcome.Detail}");
            written.Add((at, outcome));
        }
        if (await BridgeSettings.Extra.CountAsync(db, tx) > BridgeSettings.Extra.MaxCount)
            return BridgeResults.Error(StatusCodes.Status400BadRequest, $"Too many bridge settings: at most {BridgeSettings.Extra.MaxCount}");
        var config = await CurrentConfigAsync(tx);
        await tx.CommitAsync();
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
    public async Task<IResult> Cleanup()
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var timeout = await BridgeSettings.SessionTimeoutAsync(db, tx);
        var cutoff = new { cutoff = Timestamp.From(clock.GetUtcNow().AddSeconds(-timeout)) };
        await db.ExecuteAsync(CleanupSql[0], cutoff, tx);
        await db.ExecuteAsync(CleanupSql[1], cutoff, tx);
        var cleaned = await db.ExecuteAsync(CleanupSql[2], cutoff, tx);
        await tx.CommitAsync();
        return BridgeResults.Ok(new CleanupResult(cleaned, $"Removed {cleaned} session(s) idle for more than {timeout} seconds"));
    }

    /// <summary>Deletes every chat row and reports what was deleted and what actually remains.</summary>
    public async Task<IResult> ClearData()
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var responses = await db.ExecuteAsync("DELETE FROM web_chat_responses", transaction: tx);
        var messages = await db.ExecuteAsync("DELETE FROM web_chat_messages", transaction: tx);
        var sessions = await db.ExecuteAsync("DELETE FROM web_chat_sessions", transaction: tx);
        var remaining = await db.QuerySingleAsync<ChatCounts>("""
            SELECT (SELECT COUNT(*) FROM web_chat_sessions) AS sessions, (SELECT COUNT(*) FROM web_chat_messages) AS messages,
                   (SELECT COUNT(*) FROM web_chat_responses) AS responses
            """, transaction: tx);
        await tx.CommitAsync();
        return BridgeResults.Ok(new ClearDataResult(new ChatCounts(sessions, messages, responses), remaining));
    }

    /// <summary>
    /// Sanctum.Api logs through ASP.NET Core logging to the console and keeps no bridge log files, so there is nothing
    /// to delete; the answer says so and names the settings in force rather than inventing figures.
    /// </summary>
    public IResult CleanupLogs()
    {
        var level = configuration["Logging:LogLevel:Default"] ?? "Information";
        return BridgeResults.Ok(new LogCleanupResult("console", level, 0,
            "Logs go to the console through ASP.NET Core logging (Logging:LogLevel); there are no bridge log files to delete."));
    }

    /// <summary>Who the settings history names for changes made with the bridge's admin key.</summary>
    public const string Actor = "chat-bridge";

    private async Task<BridgeConfig> CurrentConfigAsync(DbTransaction? tx) =>
        new(await BridgeSettings.MaxMessageLengthAsync(db, tx), await BridgeSettings.SessionTimeoutAsync(db, tx), limits.PerMinute)
        {
            Settings = (await BridgeSettings.Extra.AllAsync(db, tx)).ToDictionary(e => e.Key, e => JsonSerializer.SerializeToElement(e.Value)),
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
