namespace Sanctum.Api.Settings;

/// <summary>
/// Writes of one setting take turns in this process before they open a transaction (on PostgreSQL only settings with an
/// owner, written serializable: the others queue on their advisory lock, see <c>SettingsCore.TurnAsync</c>). On PostgreSQL, concurrent
/// serializable transactions writing the same row would all but one fail and be run again (one at a time, in
/// SerializationRetry's lane: 200 PUT/s at 32 connections, p99 1.4 s); waiting here instead, without holding a thread
/// or a transaction, each finds the row as the previous one committed it. On SQLite it replaces the busy handler's
/// polling of the write lock by a hand-over between writers of one key. Across instances the database still decides
/// (serializable transactions; SQLite's lock): this only spares a process from racing itself. Keys share 256 stripes,
/// so the memory is fixed whatever keys clients send.
/// </summary>
public static class SettingWriteGate
{
    private static readonly SemaphoreSlim[] Stripes = Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public static async Task<IDisposable> EnterAsync(SettingAddress at, CancellationToken cancellationToken)
    {
        var stripe = Stripes[(uint)HashCode.Combine(at.Store.Name, at.Scope, at.ScopeId, at.Key) % (uint)Stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        return new Turn(stripe);
    }

    private sealed class Turn(SemaphoreSlim stripe) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) stripe.Release();
        }
    }
}
