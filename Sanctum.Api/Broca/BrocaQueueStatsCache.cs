using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Sanctum.Api.Broca;

/// <summary>
/// The queue figures of each Broca database, reused while it is unchanged. Broca keeps no index on
/// <c>queue.status</c>, so the figures cost a scan of the whole queue (about 30 ms at 100,000 items) that the page, the
/// health check and other admins need not repeat while nothing was written. A commit shows in SQLite's own headers:
/// the database's file change counter (rollback journal) or the WAL's length and salt (WAL mode while a connection
/// holds the log, as Broca's running process does; the salt changes when the log restarts). When the last connection
/// closes, the log is folded back without a counter change, and only the file's time says so (to a few milliseconds):
/// so an entry is also used for at most <see cref="MaxAge"/>, which "failed in the last hour" needs anyway. Writes
/// through <see cref="BrocaDatabase"/> forget the entry.
/// </summary>
public sealed class BrocaQueueStatsCache(TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed record Entry(FileStamp Stamp, DateTimeOffset ReadAt, BrocaQueueStats Figures);

    private readonly record struct FileStamp(long Length, long Written, uint ChangeCounter, long WalLength, ulong WalSalt)
    {
        public static FileStamp Of(string path)
        {
            var (length, header) = Head(path, 28);
            var (walLength, walHeader) = Head(path + "-wal", 24);
            return new(length, File.GetLastWriteTimeUtc(path).Ticks, header.Length >= 28 ? BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24)) : 0,
                walLength, walHeader.Length >= 24 ? BinaryPrimitives.ReadUInt64BigEndian(walHeader.AsSpan(16)) : 0);
        }

        private static (long Length, byte[] Head) Head(string path, int bytes)
        {
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                var head = new byte[bytes];
                var read = file.ReadAtLeast(head, bytes, throwOnEndOfStream: false);
                return (file.Length, head[..read]);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return (-1, []);
            }
        }
    }

    /// <summary>The figures of the database at <paramref name="path"/>: cached, or read with <paramref name="read"/>.</summary>
    public async Task<BrocaQueueStats> GetAsync(string path, Func<Task<BrocaQueueStats>> read)
    {
        var now = clock.GetUtcNow();
        var stamp = FileStamp.Of(path);
        if (_entries.TryGetValue(path, out var entry) && entry.Stamp == stamp && now - entry.ReadAt < MaxAge) return entry.Figures;
        var figures = await read();
        _entries[path] = new Entry(stamp, now, figures);
        return figures;
    }

    public void Forget(string path) => _entries.TryRemove(path, out _);
}
