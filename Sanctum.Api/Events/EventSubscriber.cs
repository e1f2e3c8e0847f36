using System.Threading.Channels;
using Sanctum.Api.Agents;

namespace Sanctum.Api.Events;

/// <summary>How an open stream signed in, so that it can be checked again while it stays open.</summary>
public sealed record StreamCredential(bool IsAccessToken, string Hash);

/// <summary>
/// One open stream: the topics it asked for, who reads it (updated when their role changes), and a bounded buffer
/// between the hub and the stream's writer. A buffer that fills up ends the stream: the reader is too slow.
/// </summary>
public sealed class EventSubscriber(IReadOnlySet<string> topics, long userId, AgentVisibility.Viewer viewer, StreamCredential credential, int bufferSize)
{
    private readonly Channel<LiveEvent> _buffer = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(bufferSize)
    {
        SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly CancellationTokenSource _ended = new();

    public IReadOnlySet<string> Topics { get; } = topics;
    public StreamCredential Credential { get; } = credential;
    public AgentVisibility.Viewer Viewer { get; set; } = viewer;
    public long UserId { get; } = userId;

    /// <summary>Why the stream ended (dropped, revoked); null while it is open.</summary>
    public string? EndReason { get; private set; }

    public ChannelReader<LiveEvent> Reader => _buffer.Reader;

    public CancellationToken Ended => _ended.Token;

    /// <summary>Queues an event; false (and the stream ends) when the buffer is full.</summary>
    internal bool Offer(LiveEvent e)
    {
        if (_buffer.Writer.TryWrite(e)) return true;
        if (e != LiveEvent.Heartbeat) End("dropped");
        return false;
    }

    public void End(string reason)
    {
        if (EndReason is not null) return;
        EndReason = reason;
        _buffer.Writer.TryComplete();
        // Not on the caller's thread: the hub calls this under its lock, and cancelling runs the stream's continuations.
        ThreadPool.UnsafeQueueUserWorkItem(static ended => ended.Cancel(), _ended, preferLocal: false);
    }
}
