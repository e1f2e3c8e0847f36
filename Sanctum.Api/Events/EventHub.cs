using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Events;

/// <summary>Carries raised events to every instance's hub: in process (SQLite), or through PostgreSQL NOTIFY.</summary>
public interface IEventTransport
{
    void Send(LiveEvent e);
}

/// <summary>
/// This instance's live events: raises them (<see cref="IEventPublisher"/>), keeps the recent ones for Last-Event-ID
/// replay (<see cref="EventsOptions.HistorySize"/> events, none older than <see cref="EventsOptions.HistoryAge"/>) and
/// hands each to the open streams that asked for its topic. Delivery and subscription happen under one lock, so
/// every stream sees the events in the order this hub received them, with nothing missed or repeated between its
/// replay and the live events; the streams' own writers do the slow part, each from its bounded buffer.
/// </summary>
public sealed class EventHub(IOptions<EventsOptions> options, TimeProvider clock) : IEventPublisher
{
    // Per hub, not per process: two hosts in one process (the tests' two instances) must not raise the same ids, or
    // each would take the other's events for ones it already has and drop them.
    private readonly string _instanceTag = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));

    private readonly EventsOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly LiveEvent?[] _history = new LiveEvent?[Math.Max(1, options.Value.HistorySize)];
    private readonly Dictionary<string, long> _sequenceOf = new(StringComparer.Ordinal);
    private readonly Dictionary<long, int> _streamsPerUser = [];
    private readonly ConditionalWeakTable<IDbTransaction, List<LiveEvent>> _pending = new();
    private EventSubscriber[] _subscribers = [];
    private long _sequence, _counter;

    /// <summary>Set once at start-up: the PostgreSQL relay, or null to deliver here directly.</summary>
    public IEventTransport? Transport { get; set; }

    public int StreamCount => Volatile.Read(ref _subscribers).Length;

    private TaskCompletionSource _streamsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits until the number of open streams meets <paramref name="condition"/> (woken by each open and close, never polled).</summary>
    public async Task WaitForStreamCountAsync(Func<int, bool> condition, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            var changed = Volatile.Read(ref _streamsChanged).Task;
            if (condition(StreamCount)) return;
            await changed.WaitAsync(cancel.Token);
        }
    }

    private void StreamsChanged() =>
        Interlocked.Exchange(ref _streamsChanged, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Streams ended because their reader fell behind, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    private long _dropped;

    public void Publish(string topic, string name, object data, EventAudience? audience = null) => Send(Create(topic, name, data, audience));

    public void PublishOnCommit(IDbTransaction tx, string topic, string name, object data, EventAudience? audience = null) =>
        _pending.GetOrCreateValue(tx).Add(Create(topic, name, data, audience));

    public void Committed(IDbTransaction tx)
    {
        if (!_pending.TryGetValue(tx, out var events)) return;
        _pending.Remove(tx);
        foreach (var e in events) Send(e);
    }

    private LiveEvent Create(string topic, string name, object data, EventAudience? audience) => new()
    {
        Id = $"{_instanceTag}-{Interlocked.Increment(ref _counter):x}",
        Topic = topic, Name = name, Data = JsonSerializer.Serialize(data, data.GetType(), LiveEvent.Json),
        Audience = audience ?? EventAudience.Everyone, At = clock.GetUtcNow(),
    };

    private void Send(LiveEvent e)
    {
        if (Transport is { } transport) transport.Send(e);
        else Deliver(e);
    }

    /// <summary>Takes an event into the history and hands it to the streams of its topic (from the transport).</summary>
    public void Deliver(LiveEvent e)
    {
        lock (_lock)
        {
            if (_sequenceOf.ContainsKey(e.Id)) return;
            e.Sequence = ++_sequence;
            var slot = (int)(e.Sequence % _history.Length);
            if (_history[slot] is { } old) _sequenceOf.Remove(old.Id);
            _history[slot] = e;
            _sequenceOf[e.Id] = e.Sequence;
            foreach (var s in _subscribers)
                if (s.Topics.Contains(e.Topic) && !s.Offer(e) && s.EndReason == "dropped") Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>What a new stream gets: refused (limits), or attached with what it missed since its Last-Event-ID.</summary>
    public sealed record Attached(bool Refused, bool Reset, IReadOnlyList<LiveEvent> Missed, string? NewestId);

    /// <summary>
    /// Attaches <paramref name="subscriber"/>; with <paramref name="lastEventId"/>, also returns the kept events after it
    /// (or Reset when it is no longer kept).
    /// </summary>
    public Attached Subscribe(EventSubscriber subscriber, string? lastEventId)
    {
        lock (_lock)
        {
            _streamsPerUser.TryGetValue(subscriber.UserId, out var mine);
            if (_subscribers.Length >= _options.MaxStreams || mine >= _options.MaxStreamsPerUser) return new(true, false, [], null);
            _streamsPerUser[subscriber.UserId] = mine + 1;
            _subscribers = [.. _subscribers, subscriber];
            StreamsChanged();

            var newest = _sequence == 0 ? null : _history[(int)(_sequence % _history.Length)]?.Id;
            if (lastEventId is null) return new(false, false, [], newest);
            var oldestKept = clock.GetUtcNow() - _options.HistoryAge;
            if (!_sequenceOf.TryGetValue(lastEventId, out var last)) return new(false, true, [], newest);
            var missed = new List<LiveEvent>();
            for (var n = last + 1; n <= _sequence; n++)
            {
                var e = _history[(int)(n % _history.Length)]!;
                if (e.At < oldestKept) return new(false, true, [], newest);
                if (subscriber.Topics.Contains(e.Topic)) missed.Add(e);
            }
            return new(false, false, missed, newest);
        }
    }

    public void Unsubscribe(EventSubscriber subscriber)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_subscribers, subscriber);
            if (index < 0) return;
            _subscribers = [.. _subscribers.AsSpan(0, index), .. _subscribers.AsSpan(index + 1)];
            StreamsChanged();
            if (_streamsPerUser[subscriber.UserId] is var n && n <= 1) _streamsPerUser.Remove(subscriber.UserId);
            else _streamsPerUser[subscriber.UserId] = n - 1;
        }
    }

    public IReadOnlyList<EventSubscriber> Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>A heartbeat to every stream (a full buffer skips it: that stream has data waiting anyway).</summary>
    public void Heartbeat()
    {
        foreach (var s in Subscribers) s.Offer(LiveEvent.Heartbeat);
    }

    /// <summary>
    /// After a gap in delivery (the PostgreSQL listener reconnected): what was kept can no longer be trusted to be
    /// complete, so it is forgotten and every open stream ends; they reconnect and are told to reload.
    /// </summary>
    public void Forget()
    {
        lock (_lock)
        {
            Array.Clear(_history);
            _sequenceOf.Clear();
            foreach (var s in _subscribers) s.End("gap");
        }
    }
}
