using System.Collections.Concurrent;

namespace Sanctum.Api.Settings;

/// <summary>
/// PUTs of one setting that arrive while another PUT of it is being written wait here, and the next writer writes all of
/// them, one after another as if alone (each checked against the value the previous one left, with its own If-Match,
/// history entry and audit row), in one transaction: one lock, one commit, one flush for the lot. Taking turns one
/// transaction each, through a lock held across two database round trips, a busy key ran on PostgreSQL at a third of
/// the rate of many keys (bench/RESULTS.md, stop 29). A line exists while its setting has PUTs in flight. One queue
/// per <see cref="SettingsCore"/>, so per database: hosts in one process (the tests) never write each other's PUTs.
/// </summary>
public sealed class SettingPutQueue
{
    /// <summary>The most PUTs written in one transaction: the rest wait for the next one.</summary>
    public const int MaxBatch = 64;

    private readonly ConcurrentDictionary<SettingAddress, Line> _lines = new();

    internal sealed class Line
    {
        public readonly List<Put> Waiting = [];
        public bool Writing;

        /// <summary>Taken out of the queue's lines: a PUT that found it there a moment before takes a new one.</summary>
        public bool Gone;
    }

    /// <summary>One PUT in line: its answer is its outcome, or null when it is its turn to write.</summary>
    public sealed class Put(SettingAddress at, SettingWrite body, HttpContext http)
    {
        public SettingAddress At { get; } = at;
        public SettingWrite Body { get; } = body;
        public HttpContext Http { get; } = http;
        internal TaskCompletionSource<SettingOutcome?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Written by the writer whose batch it was in.</summary>
        public void Answered(SettingOutcome outcome) => Answer.TrySetResult(outcome);

        /// <summary>Its batch failed (the transaction did): the request fails as if it had run it itself.</summary>
        public void Failed(Exception e) => Answer.TrySetException(e);
    }

    /// <summary>
    /// Waits for the PUT's turn. Returns the PUTs the caller must now write (its own first), handing the line on with
    /// <see cref="Batch.Dispose"/>; or null when another writer wrote it (its outcome is <see cref="Outcome"/>).
    /// </summary>
    public async Task<Batch?> JoinAsync(Put put)
    {
        Line line;
        bool wait;
        while (true)
        {
            line = _lines.GetOrAdd(put.At, _ => new Line());
            lock (line)
            {
                if (line.Gone) continue;
                line.Waiting.Add(put);
                wait = line.Writing;
                line.Writing = true;
                break;
            }
        }
        if (wait && await put.Answer.Task is not null) return null;
        List<Put> batch;
        lock (line)
        {
            // Its own PUT first, then the others in the order they came.
            line.Waiting.Remove(put);
            var others = Math.Min(line.Waiting.Count, MaxBatch - 1);
            batch = [put, .. line.Waiting.Take(others)];
            line.Waiting.RemoveRange(0, others);
        }
        return new Batch(_lines, put.At, line, batch);
    }

    /// <summary>The outcome another writer wrote for this PUT.</summary>
    public static SettingOutcome Outcome(Put put) => put.Answer.Task.Result!;

    /// <summary>A writer's PUTs; disposing it hands the line to the next PUT waiting (once its transaction is committed).</summary>
    public sealed class Batch : IDisposable
    {
        private readonly ConcurrentDictionary<SettingAddress, Line> _lines;
        private readonly SettingAddress _at;
        private readonly Line _line;
        private int _handedOn;

        internal Batch(ConcurrentDictionary<SettingAddress, Line> lines, SettingAddress at, Line line, List<Put> puts)
        {
            _lines = lines;
            _at = at;
            _line = line;
            Puts = puts;
        }

        public IReadOnlyList<Put> Puts { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _handedOn, 1) != 0) return;
            Put? next = null;
            lock (_line)
            {
                if (_line.Waiting.Count > 0) next = _line.Waiting[0];
                else
                {
                    _line.Writing = false;
                    _line.Gone = true;
                    _lines.TryRemove(new KeyValuePair<SettingAddress, Line>(_at, _line));
                }
            }
            next?.Answer.TrySetResult(null);
        }
    }
}
