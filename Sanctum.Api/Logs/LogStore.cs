using System.Globalization;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Logs;

/// <summary>
/// The service's own log lines, kept in a SQLite file of their own (<c>&lt;DataDirectory&gt;/logs/sanctum-logs.db</c>) so
/// that logging never waits for, or holds, the main database's write lock. Loggers only offer a line to a bounded
/// queue (<see cref="Offer"/>); <see cref="LogStoreWriter"/> writes the queue in batches off the request path and keeps
/// the file within <see cref="LogStoreOptions.MaxBytes"/> and <see cref="LogStoreOptions.MaxAge"/>.
/// </summary>
public sealed class LogStore
{
    public const int MaxCategory = 200, MaxMessage = 8000, MaxException = 16000, MaxEventName = 200, MaxTraceId = 64;
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private readonly Channel<object> _queue;
    private long _dropped;

    public LogStore(IOptions<SanctumOptions> options, TimeProvider clock)
    {
        // The logger provider is built before the start-up checks run: with invalid options the service prints one line
        // and exits before anything is written, so the defaults stand in here instead of an exception with a stack trace.
        SanctumOptions o;
        try { o = options.Value; }
        catch (OptionsValidationException) { o = new SanctumOptions(); }
        Options = o.Logs;
        Clock = clock;
        // Relative to the application's folder, as the data directory itself is (Data/Database.cs).
        Directory = Path.GetFullPath(string.IsNullOrWhiteSpace(o.Logs.Directory) ? Path.Combine(o.DataDirectory, "logs") : o.Logs.Directory,
            AppContext.BaseDirectory);
        FilePath = Path.Combine(Directory, "sanctum-logs.db");
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = true, DefaultTimeout = 10 }.ToString();
        _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(Math.Max(16, o.Logs.QueueCapacity))
        {
            FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true,
        }, _ => Interlocked.Increment(ref _dropped));
    }

    public LogStoreOptions Options { get; }
    public TimeProvider Clock { get; }
    public string Directory { get; }
    public string FilePath { get; }
    public string ConnectionString { get; }

    /// <summary>Lines dropped because the queue was full (the writer fell behind).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    internal ChannelReader<object> Queue => _queue.Reader;

    internal void Complete() => _queue.Writer.TryComplete();

    /// <summary>Queues a line for the writer; never blocks.</summary>
    public void Offer(LogRecord record)
    {
        if (record.Level >= Options.MinimumLevel) _queue.Writer.TryWrite(record);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every line queued before the call is in the file.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _queue.Writer.WriteAsync(flushed, cancel.Token);
            await flushed.Task.WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException) { }
        catch (ChannelClosedException) { }
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    internal void CreateSchema()
    {
        System.IO.Directory.CreateDirectory(Directory);
        using var db = Open();
        // WAL: readers (GET /api/logs) never wait for the writer; a second instance on the same directory shares the file.
        db.Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA journal_size_limit = 4194304;
            CREATE TABLE IF NOT EXISTS log_lines (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                level INTEGER NOT NULL,
                category TEXT NOT NULL,
                message TEXT NOT NULL,
                event_id INTEGER,
                event_name TEXT,
                trace_id TEXT,
                job_run_id INTEGER,
                instance_id INTEGER,
                exception TEXT,
                properties TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_log_lines_at ON log_lines (at);
            CREATE INDEX IF NOT EXISTS ix_log_lines_job_run ON log_lines (job_run_id) WHERE job_run_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS ix_log_lines_instance ON log_lines (instance_id, id) WHERE instance_id IS NOT NULL;
            """);
    }
}
