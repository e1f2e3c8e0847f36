using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sanctum.Api.Data;

/// <summary>
/// A number that changes whenever any connection commits to the database. A read that is hot and the same for every
/// caller can cache its result against it and never serve an answer older than the last commit it could know of.
/// <list type="bullet">
/// <item>SQLite: <c>PRAGMA data_version</c>, read on one connection kept open for nothing else; it changes on every
///   commit by another connection (this process's pool, another process, the sqlite3 shell).</item>
/// <item>PostgreSQL: the count of commits (<see cref="PostgresCommits"/>), read from memory: no lock and no round trip on
///   the request path. This process's own commits are counted before they return; other instances' are pushed to a
///   connection that listens for nothing else. While that connection is not listening (starting,
///   lost), every call returns a new number, so nothing cached is served until it listens again.</item>
/// </list>
/// </summary>
public sealed partial class DataVersion(Database database, ILogger<DataVersion> logger) : IHostedService, IDisposable
{
    private readonly Lock _lock = new();
    private DbConnection? _connection;
    private sqlite3_stmt? _statement; // SQLite
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _listenerStarted;
    private volatile bool _listening;

    /// <summary>On PostgreSQL, starts listening and waits (a few seconds at most) until it does: the caches work from the first request.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (database.IsSqlite) return;
        StartListener();
        await Task.WhenAny(_firstListen.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        return Task.CompletedTask;
    }

    public long Current()
    {
        if (!database.IsSqlite)
        {
            if (_listening) return database.Commits.Count;
            StartListener();
            return database.Commits.Bump();
        }
        lock (_lock)
        {
            _connection ??= database.Open();
            return SqliteVersion((SqliteConnection)_connection);
        }
    }

    private void StartListener()
    {
        if (Interlocked.Exchange(ref _listenerStarted, 1) == 0)
            new Thread(Listen) { IsBackground = true, Name = "sanctum commit listener" }.Start();
    }

    // A thread of its own, blocked on the socket: a notification is counted as soon as it arrives, whatever the
    // thread pool is busy with.
    private void Listen()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var connection = database.Commits.OpenListener(database.ConnectionString);
                // Whatever committed before it listened: the caches start again.
                database.Commits.Bump();
                _listening = true;
                _firstListen.TrySetResult();
                while (!_stop.IsCancellationRequested) connection.Wait(1000);
            }
            catch (Exception e) // a thread of its own: nothing may escape it
            {
                if (_stop.IsCancellationRequested) return;
                LogListenerLost(logger, e);
            }
            finally
            {
                _listening = false;
                database.Commits.Bump();
            }
            _stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection that listens for other instances' commits; cached reads are bypassed until it is back.")]
    private static partial void LogListenerLost(ILogger logger, Exception exception);

    // Prepared once and stepped through the C API: it runs on every cached read (at least twice per request), where a
    // command's reader would cost more than the step itself.
    private long SqliteVersion(SqliteConnection sqlite)
    {
        if (_statement is null)
        {
            Check(sqlite, raw.sqlite3_prepare_v2(sqlite.Handle, "PRAGMA data_version", out var statement));
            _statement = statement;
        }
        try
        {
            Check(sqlite, raw.sqlite3_step(_statement) == raw.SQLITE_ROW ? raw.SQLITE_OK : raw.sqlite3_errcode(sqlite.Handle));
            return raw.sqlite3_column_int64(_statement, 0);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private static void Check(SqliteConnection sqlite, int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, sqlite.Handle);
    }

    public void Dispose()
    {
        _stop.Cancel();
        lock (_lock)
        {
            _statement?.Dispose();
            _connection?.Dispose();
        }
    }
}
