namespace Sanctum.Api.Peers;

/// <summary>
/// Why a call to a peer (an SMCP instance, Letta) failed, in words for an operator; <see cref="Off"/> when the peer is
/// unusable (refused, timed out, key rejected); <see cref="Status"/> the peer's HTTP status when it answered with one.
/// </summary>
public sealed class PeerFailure(string message, bool off, bool timedOut = false, Exception? inner = null, int? status = null) : Exception(message, inner)
{
    public bool Off { get; } = off;
    public bool TimedOut { get; } = timedOut;
    public int? Status { get; } = status;
}
