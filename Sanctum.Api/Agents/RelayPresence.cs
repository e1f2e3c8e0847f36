using System.Data;
using Dapper;
using Sanctum.Api.Data;

namespace Sanctum.Api.Agents;

/// <summary>
/// An agent's status from the one signal the server has about it: when a relay last polled its chat inbox, with the
/// agent's own bridge key or with the global key (which serves every agent). Active: Healthy while the last poll is
/// within the relay window, Degraded once it is older, Off when no relay ever polled it. Inactive: Off (manual).
/// <see cref="Derive"/> is pure, so status history and caches can call it with the poll times they hold.
/// </summary>
public static class RelayPresence
{
    /// <summary>The scope the global and admin keys poll for: every agent.</summary>
    public const string AllAgents = "*";

    public const string Relay = "relay", Manual = "manual";

    /// <summary>A scope's last poll and the start of its current run of polls.</summary>
    public sealed record Poll(string LastPollAt, string ConnectedSince);

    public sealed record Presence(string Status, string StatusSource, string StatusSince, string? LastRelayPollAt);

    public const string RecordSql = """
        INSERT INTO chat_relay_polls (relay_scope, last_poll_at, connected_since) VALUES (@scope, @now, @now)
        ON CONFLICT (relay_scope) DO UPDATE SET
            connected_since = CASE WHEN last_poll_at < @windowStart THEN excluded.connected_since ELSE connected_since END,
            last_poll_at = excluded.last_poll_at
        """;

    public const string PollsSql = "SELECT relay_scope, last_poll_at, connected_since FROM chat_relay_polls";

    /// <summary>Notes a poll of <paramref name="scope"/> (an agent id or <see cref="AllAgents"/>).</summary>
    public static void Record(IDbConnection db, IDbTransaction? tx, string scope, DateTimeOffset now, int windowSeconds) =>
        db.Execute(RecordSql, new { scope, now = Timestamp.From(now), windowStart = Timestamp.From(now.AddSeconds(-windowSeconds)) }, tx);

    /// <summary>Every scope's poll (one row per agent key that polled, plus the global one).</summary>
    public static Dictionary<string, Poll> Polls(IDbConnection db) =>
        db.Query<(string Scope, string LastPollAt, string ConnectedSince)>(PollsSql)
            .ToDictionary(p => p.Scope, p => new Poll(p.LastPollAt, p.ConnectedSince), StringComparer.Ordinal);

    /// <summary>The agent's presence from its own poll and the global one.</summary>
    public static Presence Derive(bool isActive, string changedAt, Poll? own, Poll? all, DateTimeOffset now, int windowSeconds)
    {
        // The latest of the two polls speaks for the agent.
        var poll = own is null ? all : all is null ? own : string.CompareOrdinal(own.LastPollAt, all.LastPollAt) >= 0 ? own : all;
        if (!isActive) return new Presence("Off", Manual, changedAt, poll?.LastPollAt);
        if (poll is null) return new Presence("Off", Relay, changedAt, null);
        var fresh = Timestamp.Parse(poll.LastPollAt).AddSeconds(windowSeconds);
        return fresh >= now
            ? new Presence("Healthy", Relay, poll.ConnectedSince, poll.LastPollAt)
            : new Presence("Degraded", Relay, Timestamp.From(fresh), poll.LastPollAt);
    }

    /// <summary>The agents as responses show them: status, status_source, status_since and last_relay_poll_at from the polls.</summary>
    public static IEnumerable<Agent> Apply(IDbConnection db, IEnumerable<Agent> agents, DateTimeOffset now, int windowSeconds)
    {
        var polls = Polls(db);
        var all = polls.GetValueOrDefault(AllAgents);
        return agents.Select(agent => Apply(agent, polls.GetValueOrDefault(agent.Id), all, now, windowSeconds)).ToList();
    }

    public static Agent Apply(Agent agent, Poll? own, Poll? all, DateTimeOffset now, int windowSeconds)
    {
        var presence = Derive(agent.IsActive, agent.UpdatedAt, own, all, now, windowSeconds);
        return agent with
        {
            Status = presence.Status, StatusSource = presence.StatusSource, StatusSince = presence.StatusSince,
            LastRelayPollAt = presence.LastRelayPollAt,
        };
    }
}
