using System.Data.Common;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Sanctum.Api.Tests;

/// <summary>
/// The real application on a fresh SQLite file in its own temp directory (or, with SANCTUM_TEST_ENGINE=postgres, a
/// fresh database on the test run's PostgreSQL server: <see cref="TestEngine"/>). Nothing is faked: the migrations,
/// the pipeline and the SQL are the ones that run in production. Only slow or shared things are tuned:
/// bcrypt cost 4 and a login limit high enough for a test run.
/// </summary>
public sealed class SanctumApplication : WebApplicationFactory<Program>
{
    public const string AdminPassword = "keeper-phrase-41";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsDataDirectory;
    private readonly string? _ownedDatabase;

    /// <summary>
    /// With <paramref name="dataDirectory"/>, the host uses that directory (shared with another host, or kept for a
    /// later one) and leaves it in place when disposed; without, it gets a fresh one and deletes it at the end.
    /// </summary>
    public SanctumApplication(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        _ownsDataDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "sanctum-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        _settings = new()
        {
            ["Sanctum:DataDirectory"] = DataDirectory,
            ["Sanctum:PasswordWorkFactor"] = "4",
            ["Sanctum:LoginPermitLimit"] = "10000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
        if (TestEngine.IsPostgres && !_settings.ContainsKey("ConnectionStrings:Sanctum"))
        {
            // Hosts that share a data directory share its database; a fresh directory gets a fresh database.
            var directory = _settings["Sanctum:DataDirectory"]!;
            var server = PostgresTestServer.Instance;
            var template = DatabaseTemplate.Fits(_settings) ? DatabaseTemplate.PostgresDatabase : null;
            _settings["ConnectionStrings:Sanctum"] = _ownsDataDirectory && directory == DataDirectory
                ? server.CreateDatabaseFor(directory, out _ownedDatabase, template)
                : server.DatabaseFor(directory, template);
            _settings.TryAdd("Sanctum:KeyRingKey", PostgresTestServer.KeyRingKey);
        }
        ConnectionString = _settings.GetValueOrDefault("ConnectionStrings:Sanctum");
        _sqliteFromTemplate = ConnectionString is null && _settings["Sanctum:DataDirectory"] == DataDirectory && DatabaseTemplate.Fits(_settings);
    }

    private readonly bool _sqliteFromTemplate;

    /// <summary>The PostgreSQL connection string the host uses; null on SQLite.</summary>
    public string? ConnectionString { get; }

    public string DataDirectory { get; }

    /// <summary>Services replaced for this host (e.g. a FakeTimeProvider as the TimeProvider), after the application's own.</summary>
    public Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? TestServices { get; init; }

    public string DatabasePath => Path.Combine(DataDirectory, "sanctum.db");

    /// <summary>
    /// Serves on Kestrel at a loopback port the kernel picks (read it from IServerAddressesFeature once started).
    /// Not <c>UseKestrel(0)</c>: the factory sets that port only after it has let the application's Main go on, which
    /// then starts the server itself; a Main that got there first made the factory fail ("Addresses cannot be modified
    /// after the server has started", seen under load). An address in the host's settings is there before Main runs.
    /// </summary>
    public void UseKestrelOnLoopback()
    {
        _settings[WebHostDefaults.ServerUrlsKey] = LoopbackUrls;
        UseKestrel();
    }

    public const string LoopbackUrls = "http://127.0.0.1:0";

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "sanctum-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        // A fresh SQLite directory starts from the migrated template (DatabaseTemplate); the host's own start does the rest.
        if (_sqliteFromTemplate) DatabaseTemplate.CopySqliteTo(DatabasePath);
        // The factory points the web root at the project folder; the pages are copied beside the binaries.
        builder.UseWebRoot(Path.Combine(AppContext.BaseDirectory, "wwwroot"));
        if (TestServices is { } configure) Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.ConfigureTestServices(builder, configure);
    }

    /// <summary>A direct connection to the same database, for arranging rows and checking what was written.</summary>
    public DbConnection OpenDatabase()
    {
        _ = Services; // make sure the host (and so the migrations) ran
        // On PostgreSQL a connection counted by the host: its commits reach the host's result caches before they return,
        // as the host's own writes do (Data/PostgresCommits.cs); a connection from elsewhere is heard a moment later,
        // which a test checking "the very next request" would race with.
        // (An Npgsql connection: transactions begun on it keep Npgsql's default level, READ COMMITTED.)
        if (ConnectionString is { } postgres) return Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Sanctum.Api.Data.Database>(Services).Commits.OpenListener(postgres);
        return OpenDatabaseWithoutStarting();
    }

    /// <summary>The same connection without starting the host (which would hold the data directory), e.g. between CLI runs.</summary>
    public DbConnection OpenDatabaseWithoutStarting()
    {
        DbConnection connection = ConnectionString is { } postgres
            ? new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Pooling = false }.ConnectionString)
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, ForeignKeys = true, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Runs the relay presence sweep now, as its timer would (after a test edits chat_relay_polls).</summary>
    public void SweepRelayPresence() => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Sanctum.Api.ChatBridge.RelayPresenceSweeper>(Services).SweepAsync().GetAwaiter().GetResult();

    /// <summary>Signs in as the seeded admin, does the forced password change, and returns a bearer client.</summary>
    public async Task<HttpClient> CreateAdminClientAsync()
    {
        var client = CreateClient();
        var token = await LoginAsync(client, "admin", "admin123") ?? await LoginAsync(client, "admin", AdminPassword);
        Assert.That(token, Is.Not.Null, "the seeded admin could not sign in");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/auth/me");
        if (me.GetProperty("must_change_password").GetBoolean())
        {
            var change = await client.PostAsJsonAsync("/api/auth/password", new { current_password = "admin123", new_password = AdminPassword });
            Assert.That(change.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), await change.Content.ReadAsStringAsync());
        }
        return client;
    }

    /// <summary>Creates an active user with <paramref name="role"/> straight in the database and returns a signed-in client.</summary>
    public async Task<HttpClient> CreateClientForRoleAsync(string role, string? username = null)
    {
        username ??= $"{role}-{Guid.NewGuid():N}"[..20];
        const string password = "role-password-1";
        using (var db = OpenDatabase())
        {
            db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES (@username, @email, @hash, @role)",
                new { username, email = $"{username}@example.test", hash = BCrypt.Net.BCrypt.HashPassword(password, 4), role });
        }
        var client = CreateClient();
        var token = await LoginAsync(client, username, password);
        Assert.That(token, Is.Not.Null, $"the {role} user could not sign in");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<string?> LoginAsync(HttpClient client, string username, string password)
    {
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username, password });
        if (response.StatusCode != HttpStatusCode.OK) return null;
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (_ownedDatabase is not null) PostgresTestServer.Instance.DropDatabase(_ownedDatabase);
        if (!_ownsDataDirectory) return;
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
