using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Sanctum.Api.Tests;

/// <summary>
/// Which engine the suite runs on: SQLite files (the default) or, with <c>SANCTUM_TEST_ENGINE=postgres</c>, a throwaway
/// PostgreSQL 15 server (<see cref="PostgresTestServer"/>) with a database per test host.
/// </summary>
public static class TestEngine
{
    public static bool IsPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("SANCTUM_TEST_ENGINE"), "postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>Marks a test that is about SQLite itself (its file, locks, PRAGMAs): ignored on PostgreSQL, with the reason.</summary>
    public static void RequireSqlite(string why)
    {
        if (IsPostgres) Assert.Ignore($"SQLite only: {why}");
    }

    /// <summary>
    /// Marks a check that does not depend on the database engine (the Dockerfile's build, the lint of openapi.yaml, the
    /// pages in the browser but those that depend on it: BrowserTest.EngineIndependent): it runs in the SQLite run only,
    /// so the PostgreSQL run does not repeat it.
    /// </summary>
    public static void EngineIndependent(string what)
    {
        if (IsPostgres) Assert.Ignore($"Does not depend on the engine, checked in the SQLite run: {what}");
    }

    /// <summary>Marks a test that needs PostgreSQL (several instances on one database, server-side locking).</summary>
    public static void RequirePostgres(string why)
    {
        if (!IsPostgres) Assert.Ignore($"PostgreSQL only (SANCTUM_TEST_ENGINE=postgres): {why}");
    }
}

/// <summary>
/// One PostgreSQL 15 server for the whole test run, in a temp directory on a free loopback port (initdb and pg_ctl
/// from Debian's postgresql package; as the postgres user when the tests run as root, since the server refuses root).
/// It runs without durability (fsync off): a test database is thrown away anyway. Each test host gets a database of
/// its own, dropped when the host is disposed; the server and its directory go at the end of the run.
/// </summary>
public sealed class PostgresTestServer
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    /// <summary>The Sanctum:KeyRingKey every test host on PostgreSQL uses (so hosts sharing a database share keys).</summary>
    public static readonly string KeyRingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private const int FirstPort = 55432, LastPort = 55449;

    private static readonly Lazy<PostgresTestServer> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, string> ByDirectory = new(StringComparer.Ordinal);

    private readonly string _directory;

    private PostgresTestServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres", Pooling = false,
        }.ConnectionString;
    }

    public static PostgresTestServer Instance => Shared.Value;

    public static bool Started => Shared.IsValueCreated;

    public int Port { get; }

    public string AdminConnectionString { get; }

    /// <summary>A new database, empty or a copy of <paramref name="template"/>; returns its connection string.</summary>
    public string CreateDatabase(out string name, string? template = null)
    {
        name = "sanctum_" + Guid.NewGuid().ToString("N")[..16];
        Admin(template is null ? $"CREATE DATABASE {name}" : $"CREATE DATABASE {name} TEMPLATE {template}");
        return ConnectionString(name);
    }

    /// <summary>The database of a data directory that several hosts share (created on first use, dropped at the end of the run).</summary>
    public string DatabaseFor(string dataDirectory, string? template = null) =>
        ByDirectory.GetOrAdd(Path.GetFullPath(dataDirectory), _ => CreateDatabase(out _, template));

    /// <summary>A new database for a new data directory, which later hosts on the same directory share.</summary>
    public string CreateDatabaseFor(string dataDirectory, out string name, string? template = null)
    {
        var connection = CreateDatabase(out name, template);
        ByDirectory[Path.GetFullPath(dataDirectory)] = connection;
        return connection;
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database,
    }.ConnectionString;

    public void DropDatabase(string name)
    {
        // That database's pool only: clearing them all closed the idle connections of the hosts still running beside.
        using (var connection = new NpgsqlConnection(ConnectionString(name))) NpgsqlConnection.ClearPool(connection);
        Admin($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private void Admin(string sql)
    {
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static PostgresTestServer Start()
    {
        var directory = Directory.CreateTempSubdirectory("sanctum-pg-").FullName;
        var data = Path.Combine(directory, "data");
        var asRoot = Environment.IsPrivilegedProcess;
        if (asRoot) Run("chown", ["postgres:postgres", directory], asPostgres: false);
        Run(Path.Combine(BinDirectory, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"], asRoot);
        for (var port = FirstPort; port <= LastPort; port++)
        {
            if (!IsFree(port)) continue;
            var options = $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                + "-c full_page_writes=off -c max_connections=500 -c shared_buffers=64MB";
            try
            {
                Run(Path.Combine(BinDirectory, "pg_ctl"), ["-D", data, "-o", options, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60", "start"], asRoot);
            }
            catch (InvalidOperationException) when (port < LastPort)
            {
                continue; // taken between the check and the start: the next one
            }
            var server = new PostgresTestServer(directory, port);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
            return server;
        }
        throw new InvalidOperationException($"No free port in {FirstPort}-{LastPort} for the test PostgreSQL server.");
    }

    /// <summary>Stops the server (fast: the data is thrown away) and deletes its directory.</summary>
    public void Stop()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            Run(Path.Combine(BinDirectory, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"], Environment.IsPrivilegedProcess);
        }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // The server refuses to run as root: as root, through runuser (util-linux, on every Debian).
    private static void Run(string program, string[] arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres) foreach (var a in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(); throw new InvalidOperationException($"{program} did not finish."); }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Result}{output.Result}");
    }
}
