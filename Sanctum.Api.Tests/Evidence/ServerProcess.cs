using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// The built Sanctum.Api.dll run as a real child process (<c>dotnet Sanctum.Api.dll</c>) on a free loopback port
/// and a data directory that outlives it, so a test can kill it with SIGKILL and start it again on the same files.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string dataDirectory, IReadOnlyDictionary<string, string>? settings, string urls, string? workingDirectory, string? binaries)
    {
        var start = StartInfo(dataDirectory, ["--urls", urls], binaries); // port 0: the kernel picks a free port; the log line says which
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        start.Environment["Sanctum__LoginPermitLimit"] = "1000000";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key.Replace(":", "__")] = value;

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("The server exited early:\n" + Output));
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>
    /// <c>dotnet Sanctum.Api.dll ARGS</c> from <paramref name="binaries"/> (default: the test project's output, which holds
    /// the same Sanctum.Api.dll build with its runtimeconfig, deps and appsettings) on <paramref name="dataDirectory"/>,
    /// output redirected, bcrypt cost 4, warnings only.
    /// </summary>
    public static ProcessStartInfo StartInfo(string dataDirectory, IEnumerable<string> args, string? binaries = null)
    {
        var directory = binaries ?? AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(directory, "Sanctum.Api.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Sanctum__DataDirectory"] = dataDirectory;
        start.Environment["Sanctum__PasswordWorkFactor"] = "4";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["DOTNET_TieredPGO"] = "0"; // as the testhost (Sanctum.Api.Tests.csproj): short-lived processes
        if (TestEngine.IsPostgres)
        {
            // The data directory's database on the test run's PostgreSQL server (the same one on every restart).
            start.Environment["ConnectionStrings__Sanctum"] = PostgresTestServer.Instance.DatabaseFor(dataDirectory);
            start.Environment["Sanctum__KeyRingKey"] = PostgresTestServer.KeyRingKey;
        }
        return start;
    }

    public string DatabasePath => Path.Combine(DataDirectory, "sanctum.db");

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Runs the server to its exit (for starts that must be refused) and returns the exit code and all output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, IReadOnlyDictionary<string, string>? settings = null)
    {
        var server = new ServerProcess(dataDirectory, settings, "http://127.0.0.1:0", null, null);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await server._process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await server.DisposeAsync();
            Assert.Fail("The server started although it should have refused:\n" + server.Output);
        }
        server._process.WaitForExit(); // drains the output
        var result = (server._process.ExitCode, server.Output);
        server._process.Dispose();
        return result;
    }

    public int ProcessId => _process.Id;

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// Starts the server and returns once <c>/readyz</c> answers 200; <paramref name="binaries"/> is the folder of the
    /// Sanctum.Api.dll to run (default: the build beside the tests).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string>? settings = null,
        string urls = "http://127.0.0.1:0", string? workingDirectory = null, string? binaries = null)
    {
        var server = new ServerProcess(dataDirectory, settings, urls, workingDirectory, binaries);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await server._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = server.BaseAddress };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) break;
                }
                catch (HttpRequestException) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException("/readyz never answered 200:\n" + server.Output);
                await Task.Delay(20);
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public HttpClient CreateClient(string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Signs in as the seeded admin, doing the forced password change on a fresh database.</summary>
    public async Task<string> AdminTokenAsync()
    {
        using var client = CreateClient();
        if (await SanctumApplication.LoginAsync(client, "admin", SanctumApplication.AdminPassword) is { } token) return token;
        token = await SanctumApplication.LoginAsync(client, "admin", "admin123");
        Assert.That(token, Is.Not.Null, "the seeded admin could not sign in");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var change = await client.PostAsJsonAsync("/api/auth/password",
            new { current_password = "admin123", new_password = SanctumApplication.AdminPassword });
        Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await change.Content.ReadAsStringAsync());
        return token!;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public System.Data.Common.DbConnection OpenDatabase() => OpenDatabase(DataDirectory);

    /// <summary>
    /// An open, unpooled connection to the database of <paramref name="dataDirectory"/> as a server started on it would
    /// use (its SQLite file, or its database on the test PostgreSQL server), with no server running.
    /// </summary>
    public static System.Data.Common.DbConnection OpenDatabase(string dataDirectory)
    {
        System.Data.Common.DbConnection connection = TestEngine.IsPostgres
            ? new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(PostgresTestServer.Instance.DatabaseFor(dataDirectory)) { Pooling = false }.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "sanctum.db"), Pooling = false, DefaultTimeout = 30 }.ToString());
        connection.Open();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 200_000) _output.AppendLine(line);
        }
        if (ListeningLine().Match(line) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups[1].Value.Replace("0.0.0.0", "127.0.0.1")));
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    public static string NewDataDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sanctum-evidence", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static void DeleteDataDirectory(string directory)
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
