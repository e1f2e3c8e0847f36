using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Data;

/// <summary>Where the database lives and how every connection to it is opened.</summary>
public sealed partial class Database
{
    public Database(IConfiguration configuration, IOptions<SanctumOptions> options)
    {
        DataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        var builder = new SqliteConnectionStringBuilder(
            configuration.GetConnectionString("Sanctum") ?? $"Data Source={Path.Combine(DataDirectory, "sanctum.db")}")
        {
            // Set once per physical connection in InstallPerConnectionSettings: ForeignKeys = true here would run the
            // PRAGMA on every open of a pooled connection (five opens per status request).
            ForeignKeys = null,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY for this long (sleeping 150 ms between tries).
            DefaultTimeout = 30,
        };
        ConnectionString = builder.ToString();
        FilePath = Path.GetFullPath(builder.DataSource);
    }

    public string DataDirectory { get; }
    public string ConnectionString { get; }
    public string FilePath { get; }

    /// <summary>How long a connection waits for the write lock before SQLITE_BUSY (then 503).</summary>
    public const int BusyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// A new, closed connection (Dapper opens and closes it), which on the first open of its native handle gets
    /// foreign keys enforced and <see cref="WaitWhileBusy"/> as SQLite's busy handler.
    /// </summary>
    public SqliteConnection Create()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.StateChange += InstallPerConnectionSettings;
        return connection;
    }

    public SqliteConnection Open()
    {
        var connection = Create();
        connection.Open();
        return connection;
    }

    // Pooled connections keep their native handle, and its settings with it: set them once per handle.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Installed = new();

    private static unsafe void InstallPerConnectionSettings(object? sender, System.Data.StateChangeEventArgs change)
    {
        if (change.CurrentState != System.Data.ConnectionState.Open || sender is not SqliteConnection { Handle: { } handle } connection) return;
        if (!Installed.TryAdd(handle, Installed)) return;
        NativeSqlite.sqlite3_busy_handler(handle.DangerousGetHandle(), &WaitWhileBusy, IntPtr.Zero);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON";
        pragma.ExecuteNonQuery();
    }

    /// <summary>
    /// Waits 1 ms and tries again, up to <see cref="BusyTimeoutMilliseconds"/>. Without a handler Microsoft.Data.Sqlite
    /// sleeps 150 ms between tries, and SQLite's own busy timeout backs off to 100 ms sleeps: either way a writer that
    /// keeps losing the race for the write lock waits hundreds of milliseconds while the others commit in well under
    /// one (concurrent PUT /api/config p99 was 0.7-1 s, bench/RESULTS.md).
    /// </summary>
    [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static int WaitWhileBusy(IntPtr userData, int count)
    {
        if (count >= BusyTimeoutMilliseconds) return 0;
        Thread.Sleep(1);
        return 1;
    }

    /// <summary>The same native SQLite library Microsoft.Data.Sqlite loads (SQLitePCLRaw does not wrap this function).</summary>
    private static unsafe partial class NativeSqlite
    {
        [System.Runtime.InteropServices.LibraryImport("e_sqlite3")]
        [System.Runtime.InteropServices.UnmanagedCallConv(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
        public static partial int sqlite3_busy_handler(IntPtr db, delegate* unmanaged[Cdecl]<IntPtr, int, int> handler, IntPtr userData);
    }
}
