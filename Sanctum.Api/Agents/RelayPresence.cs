using System.Data;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Health;

namespace Sanctum.Api.Agents;

/// <summary>
/// An agent's status from the one signal the server has about it: when a relay last polled its chat inbox, with the
/// agent's own bridge key or with the global key (which serves every agent). An active agent is Healthy while the last
/// poll is within the relay window and Degraded once it is older; an inactive agent is Off (manual). An agent no relay
/// ever polled is Off, unless an admin typed its status (then it keeps that label, source manual, until a relay polls).
/// <see cref="Derive"/> is pure; <see cref="Sync"/> writes what it derives into the agents' status columns, so that
/// status history (triggers), the audit log and every reader see one status.
/// </summary>
public static class RelayPresence
{
    /// <summary>The scope the global and admin keys poll for: every agent.</summary>
    public const string AllAgents = "*";

    public const string Relay = "relay", Manual = "manual";

    /// <summary>Why an agent no relay has polled is Off: what every new agent (seeded, imported or created) starts with.</summary>
    public const string NoRelayYet = "No relay has polled its inbox yet.";

    /// <summary>A scope's last poll and the start of its current run of polls.</summary>
    public sealed record Poll(string LastPollAt, string ConnectedSince);

    /// <summary>What an agent's status columns hold.</summary>
    public sealed record Stored(bool IsActive, string Status, string StatusSource, string? StatusSince, string? StatusReason);

    public sealed record Presence(string Status, string StatusSource, string? StatusSince, string? StatusReason);

    // At most one write per scope and second: timestamps are whole seconds, so a faster relay changes nothing.
    public const string RecordSql = """
        INSERT INTO chat_relay_polls (relay_scope, last_poll_at, connected_since) VALUES (@scope, @now, @now)
        ON CONFLICT (relay_scope) DO UPDATE SET
            connected_since = CASE WHEN chat_relay_polls.last_poll_at < @windowStart THEN excluded.connected_since ELSE chat_relay_polls.connected_since END,
            last_poll_at = excluded.last_poll_at
        WHERE chat_relay_polls.last_poll_at < excluded.last_poll_at
        """;

    private const string PollsSql = "SELECT relay_scope, last_poll_at, connected_since FROM chat_relay_polls";

    /// <summary>
    /// Notes a poll of <paramref name="scope"/> (an agent id or <see cref="AllAgents"/>); true when it changed the
    /// record (the first poll in this second).
    /// </summary>
    public static async Task<bool> RecordAsync(IDbConnection db, IDbTransaction? tx, string scope, DateTimeOffset now, int windowSeconds) =>
        await db.ExecuteAsync(RecordSql, new { scope, now = Timestamp.From(now), windowStart = Timestamp.From(now.AddSeconds(-windowSeconds)) }, tx) > 0;

    /// <summary>Every scope's poll (one row per agent key that polled, plus the global one).</summary>
    public static async Task<Dictionary<string, Poll>> PollsAsync(IDbConnection db, IDbTransaction? tx = null) =>
        (await db.QueryAsync<(string Scope, string LastPollAt, string ConnectedSince)>(PollsSql, transaction: tx))
            .ToDictionary(p => p.Scope, p => new Poll(p.LastPollAt, p.ConnectedSince), StringComparer.Ordinal);

    /// <summary>The latest of the agent's own poll and the global one: it speaks for the agent.</summary>
    public static Poll? Latest(Poll? own, Poll? all) =>
        own is null ? all : all is null ? own : string.CompareOrdinal(own.LastPollAt, all.LastPollAt) >= 0 ? own : all;

    /// <summary>The agent's status given what is stored, its latest poll and the time.</summary>
    public static Presence Derive(Stored stored, Poll? poll, DateTimeOffset now, int windowSeconds)
    {
        var at = Timestamp.From(now);
        Presence Keep(string status, string source, string? reason) =>
            new(status, source, stored.Status == status && stored.StatusSource == source ? stored.StatusSince : at, reason);

        if (!stored.IsActive) return Keep("Off", Manual, "Inactive.");
        if (poll is null)
            return stored.StatusSource == Manual
                ? new Presence(stored.Status, Manual, stored.StatusSince, stored.StatusReason)
                : Keep("Off", Relay, NoRelayYet);
        var fresh = Timestamp.Parse(poll.LastPollAt).AddSeconds(windowSeconds);
        return fresh >= now
            ? new Presence("Healthy", Relay, poll.ConnectedSince, $"A relay has been polling since {poll.ConnectedSince}.")
            : new Presence("Degraded", Relay, Timestamp.From(fresh), $"No relay poll since {poll.LastPollAt}.");
    }

    /// <summary>
    /// Writes the derived status of every agent whose status changed (source relay or manual) through the
    /// <see cref="StatusWriter"/>; returns how many rows it wrote.
    /// </summary>
    public static async Task<int> SyncAsync(IDbConnection db, IDbTransaction tx, StatusWriter status, DateTimeOffset now, int windowSeconds)
    {
        var polls = await PollsAsync(db, tx);
        var all = polls.GetValueOrDefault(AllAgents);
        var written = 0;
        foreach (var (id, stored) in (await db.QueryAsync<(string Id, bool IsActive, string Status, string StatusSource, string? StatusSince, string? StatusReason)>(
                     "SELECT id, is_active, status, status_source, status_since, status_reason FROM agents", transaction: tx))
                     .Select(a => (a.Id, new Stored(a.IsActive, a.Status, a.StatusSource, a.StatusSince, a.StatusReason))))
        {
            var p = Derive(stored, Latest(polls.GetValueOrDefault(id), all), now, windowSeconds);
            if (p.Status == stored.Status && p.StatusSource == stored.StatusSource && p.StatusReason == stored.StatusReason) continue;
            await status.SetAsync(db, tx, StatusWriter.Agent, id, new StatusUpdate(p.Status, p.StatusSource, p.StatusReason, p.StatusSince ?? stored.StatusSince), at: now);
            written++;
        }
        return written;
    }

    /// <summary>The agents with <c>last_relay_poll_at</c> filled in from the polls.</summary>
    public static async Task<IReadOnlyList<Agent>> WithLastPollAsync(IDbConnection db, IEnumerable<Agent> agents)
    {
        var polls = await PollsAsync(db);
        var all = polls.GetValueOrDefault(AllAgents);
        return agents.Select(a => a with { LastRelayPollAt = Latest(polls.GetValueOrDefault(a.Id), all)?.LastPollAt }).ToList();
    }
}
