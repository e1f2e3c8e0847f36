using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>The two database engines: SQLite in the data directory (the default) or a PostgreSQL server.</summary>
public enum DatabaseEngine { Sqlite, Postgres }

/// <summary>
/// Where the database lives and how every connection to it is opened. <c>ConnectionStrings:Sanctum</c> selects the
/// engine: a PostgreSQL connection string (<c>Host=...;Database=...</c>) selects PostgreSQL, anything else (or
/// nothing: <c>&lt;DataDirectory&gt;/sanctum.db</c>) SQLite.
/// </summary>
public sealed partial class Database : IDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly string _connectionPragmas;

    public Database(IConfiguration configuration, IOptions<SanctumOptions> options)
    {
        // A relative directory is the application's folder's, as appsettings.json is: started from another working
        // directory, the binary must not silently make a fresh install there.
        DataDirectory = Path.GetFullPath(options.Value.DataDirectory, AppContext.BaseDirectory);
        Durability = options.Value.Durability;
        _connectionPragmas = $"PRAGMA foreign_keys = ON; PRAGMA synchronous = {(Durability == DatabaseDurability.Full ? "FULL" : "NORMAL")}";
        var configured = configuration.GetConnectionString("Sanctum");
        Engine = IsPostgres(configured) ? DatabaseEngine.Postgres : DatabaseEngine.Sqlite;
        Dialect = SqlDialect.For(Engine);
        if (Engine == DatabaseEngine.Postgres)
        {
            var builder = new NpgsqlConnectionStringBuilder(configured);
            ConnectionString = builder.ConnectionString;
            FilePath = null;
            // Nothing here leaves session state behind (advisory locks are released where they are taken; settings are
            // set for the transaction only): no reset round trip (DISCARD ALL) when a connection goes back to the pool.
            builder.NoResetOnClose = true;
            // The same few hundred statements run all day: prepared on a connection after their second use, PostgreSQL
            // stops parsing and planning them (PUT of a setting at 32 connections: 313-344 -> 398-768 req/s on 32 keys,
            // 115-123 -> 168-227 on one). An operator's own Max Auto Prepare in the connection string wins.
            if (builder.MaxAutoPrepare == 0)
            {
                builder.MaxAutoPrepare = 128;
                builder.AutoPrepareMinUsages = 2;
            }
            _postgres = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
            Description = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
            return;
        }
        var sqlite = new SqliteConnectionStringBuilder(configured ?? $"Data Source={Path.Combine(DataDirectory, "sanctum.db")}")
        {
            // Set once per physical connection in InstallPerConnectionSettings: ForeignKeys = true here would run the
            // PRAGMA on every open of a pooled connection (five opens per status request).
            ForeignKeys = null,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY for this long (sleeping 150 ms between tries).
            DefaultTimeout = 30,
        };
        ConnectionString = sqlite.ToString();
        FilePath = Path.GetFullPath(sqlite.DataSource);
        Description = FilePath;
    }

    public DatabaseEngine Engine { get; }

    /// <summary>Commits to the PostgreSQL database by anyone, as far as this process has heard of them (unused on SQLite).</summary>
    public PostgresCommits Commits { get; } = new();

    /// <summary>SQLite's <c>PRAGMA synchronous</c> on every connection (<c>Sanctum:Durability</c>).</summary>
    public DatabaseDurability Durability { get; }
    public SqlDialect Dialect { get; }
    public bool IsSqlite => Engine == DatabaseEngine.Sqlite;
    public string DataDirectory { get; }
    public string ConnectionString { get; }

    /// <summary>The SQLite file; null on PostgreSQL.</summary>
    public string? FilePath { get; }

    /// <summary>What messages name the database by: the SQLite file's path, or the PostgreSQL database and server (no password).</summary>
    public string Description { get; }

    /// <summary>How long a connection waits for the write lock before SQLITE_BUSY (then 503).</summary>
    public const int BusyTimeoutMilliseconds = 30_000;

    /// <summary>True for a connection string in PostgreSQL's keyword form (it names a Host or Server).</summary>
    public static bool IsPostgres(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) return false;
        try
        {
            var keys = new DbConnectionStringBuilder { ConnectionString = connectionString };
            return keys.ContainsKey("Host") || keys.ContainsKey("Server");
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// A new, closed connection (Dapper opens and closes it). On SQLite it gets, on the first open of its native handle,
    /// foreign keys enforced and <see cref="WaitWhileBusy"/> as SQLite's busy handler.
    /// </summary>
    public DbConnection Create()
    {
        // Transactions begun without a level are serializable there (PostgresConnection).
        if (_postgres is not null) return new PostgresConnection(_postgres.CreateConnection(), Commits);
        var connection = new SqliteConnection(ConnectionString);
        connection.StateChange += InstallPerConnectionSettings;
        return connection;
    }

    public DbConnection Open()
    {
        var connection = Create();
        connection.Open();
        return connection;
    }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = Create();
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>An open connection to the SQLite file, for the SQLite-only work (snapshots, page counts).</summary>
    public SqliteConnection OpenSqlite() =>
        IsSqlite ? (SqliteConnection)Open() : throw new InvalidOperationException("The database is not SQLite.");

    /// <summary>Lets idle pooled connections go (after the file was replaced, or when the host stops).</summary>
    public void ClearPool()
    {
        using var connection = Create();
        if (connection is SqliteConnection sqlite) SqliteConnection.ClearPool(sqlite);
        else if (connection is PostgresConnection postgres) NpgsqlConnection.ClearPool(postgres.Inner);
    }

    public void Dispose() => _postgres?.Dispose();

    // Pooled connections keep their native handle, and its settings with it: set them once per handle.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Installed = new();

    private unsafe void InstallPerConnectionSettings(object? sender, System.Data.StateChangeEventArgs change)
    {
        if (change.CurrentState != System.Data.ConnectionState.Open || sender is not SqliteConnection { Handle: { } handle } connection) return;
        if (!Installed.TryAdd(handle, Installed)) return;
        NativeSqlite.sqlite3_busy_handler(handle.DangerousGetHandle(), &WaitWhileBusy, IntPtr.Zero);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = _connectionPragmas;
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
