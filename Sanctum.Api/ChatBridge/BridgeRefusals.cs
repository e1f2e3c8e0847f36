using Sanctum.Api.Audit;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// Refused bridge keys in the audit log without letting an anonymous client grow it: one row per client address and
/// minute, carrying how many refusals there were and for which actions, written once that minute is over (a timer, or
/// the next refusal from the same address) and when the service stops.
/// </summary>
public sealed class BridgeRefusals(AuditLog audit, TimeProvider clock) : IHostedService, IDisposable
{
    public const string Action = "chat_bridge.key.rejected";

    // More addresses than this in one minute are written out at once rather than held.
    private const int MaxHeld = 10_000;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Tally> _tallies = new(StringComparer.Ordinal);
    private ITimer? _timer;

    /// <summary>Counts one refusal of <paramref name="action"/> from <paramref name="address"/> for <paramref name="reason"/>.</summary>
    public void Count(string address, string action, string reason)
    {
        var minute = MinuteOf(clock.GetUtcNow());
        List<(string, Tally)> due = [];
        lock (_lock)
        {
            if (_tallies.TryGetValue(address, out var tally) && tally.Minute != minute)
            {
                due.Add((address, tally));
                tally = null;
            }
            if (tally is null) _tallies[address] = tally = new Tally(minute);
            tally.Count++;
            tally.Actions.Add(action);
            tally.Reasons.Add(reason);
            if (_tallies.Count > MaxHeld) due.AddRange(Take(_ => true));
        }
        Write(due);
    }

    /// <summary>Writes the tallies of minutes that are over (all of them when <paramref name="all"/>).</summary>
    public void Flush(bool all = false)
    {
        var minute = MinuteOf(clock.GetUtcNow());
        List<(string, Tally)> due;
        lock (_lock) due = Take(t => all || t.Minute < minute);
        Write(due);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timer = clock.CreateTimer(_ => Flush(), null, Minute / 4, Minute / 4);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        Flush(all: true);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    private List<(string, Tally)> Take(Func<Tally, bool> which)
    {
        var taken = _tallies.Where(t => which(t.Value)).Select(t => (t.Key, t.Value)).ToList();
        foreach (var (address, _) in taken) _tallies.Remove(address);
        return taken;
    }

    private void Write(List<(string Address, Tally Tally)> due)
    {
        foreach (var (address, t) in due)
            audit.Record(new AuditEvent(Action, "chat_bridge", string.Join(",", t.Actions.Order(StringComparer.Ordinal)),
                new { count = t.Count, minute = Data.Timestamp.From(t.Minute), actions = t.Actions.Order(StringComparer.Ordinal), reasons = t.Reasons.Order(StringComparer.Ordinal) },
                "denied") { Address = address });
    }

    private static DateTimeOffset MinuteOf(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % Minute.Ticks, TimeSpan.Zero);

    private sealed class Tally(DateTimeOffset minute)
    {
        public DateTimeOffset Minute { get; } = minute;
        public long Count { get; set; }
        public HashSet<string> Actions { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Reasons { get; } = new(StringComparer.Ordinal);
    }
}
