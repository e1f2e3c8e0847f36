using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Data;

namespace Sanctum.Api.Tests;

/// <summary>
/// The schema, migrated once per test run and copied for each test host instead of migrated again (the migrations
/// are most of a host's start). Only what the migrations write is copied: the template is made by the migration
/// runner alone, without a host, so it holds no Data Protection keys, chat keys or anything else a start writes
/// (each host still does that itself, against its copy). The seeded admin has the placeholder hash, as in every test
/// host that sets no <c>Sanctum:BootstrapAdminPassword</c> (those migrate their own database).
/// <list type="bullet">
/// <item>SQLite: a file copied to the host's data directory before the host starts, when no database is there yet.</item>
/// <item>PostgreSQL: a database the test server copies with <c>CREATE DATABASE ... TEMPLATE</c>.</item>
/// </list>
/// The migrations themselves are still proven on empty databases (<c>Migrations/MigrationTests</c>, the hosts that
/// bring their own settings, the CLI tests).
/// </summary>
public static class DatabaseTemplate
{
    private static readonly Lazy<string> Sqlite = new(CreateSqlite, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> Postgres = new(CreatePostgres, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// A host setting (read by the tests only) for a test about the migrations themselves: its host starts on an empty
    /// database and migrates it, e.g. <c>new SanctumApplication(new Dictionary&lt;string, string?&gt; { [DatabaseTemplate.Skip] = "true" })</c>.
    /// </summary>
    public const string Skip = "SanctumTests:MigrateOwnDatabase";

    /// <summary>Whether a host with these settings starts from the template (its migrations would seed the same rows).</summary>
    public static bool Fits(IReadOnlyDictionary<string, string?> settings) =>
        string.IsNullOrEmpty(settings.GetValueOrDefault("Sanctum:BootstrapAdminPassword"))
        && settings.GetValueOrDefault(Skip) != "true"
        && Environment.GetEnvironmentVariable("SANCTUM_TEST_NO_TEMPLATE") is null;

    /// <summary>The migrated SQLite file (copy it; never open it).</summary>
    public static string SqliteFile => Sqlite.Value;

    /// <summary>The name of the migrated PostgreSQL database to copy (nobody connects to it).</summary>
    public static string PostgresDatabase => Postgres.Value;

    /// <summary>Copies the template into <paramref name="databasePath"/> unless a database (or an earlier install's keys) is there.</summary>
    public static void CopySqliteTo(string databasePath)
    {
        var directory = Path.GetDirectoryName(databasePath)!;
        if (File.Exists(databasePath) || Directory.Exists(Path.Combine(directory, "keys"))) return;
        Directory.CreateDirectory(directory);
        // Two hosts started together on one directory both get here: the copy lands under its name in one step, once.
        var copy = databasePath + "." + Guid.NewGuid().ToString("N") + ".copy";
        File.Copy(SqliteFile, copy);
        try { File.Move(copy, databasePath, overwrite: false); }
        catch (IOException) when (File.Exists(databasePath)) { File.Delete(copy); }
    }

    private static string CreateSqlite()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sanctum-tests", "template-" + Guid.NewGuid().ToString("N"));
        Migrate(directory, connectionString: null);
        var file = Path.Combine(directory, "sanctum.db");
        // The copies are taken from the main file: fold the WAL into it first (the journal mode stays WAL in the file),
        // and leave no free pages, as a database migrated in place has none either (a write must grow the file, which
        // DiskFullTests relies on).
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            connection.Execute("VACUUM");
            connection.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return file;
    }

    private static string CreatePostgres()
    {
        var server = PostgresTestServer.Instance;
        server.CreateDatabase(out var name);
        var directory = Path.Combine(Path.GetTempPath(), "sanctum-tests", "template-" + Guid.NewGuid().ToString("N"));
        Migrate(directory, server.ConnectionString(name));
        Npgsql.NpgsqlConnection.ClearAllPools(); // CREATE DATABASE ... TEMPLATE needs the template without connections
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return name;
    }

    // The production migration path (under its lock, WAL on SQLite) with the test hosts' seed settings, and no host.
    private static void Migrate(string dataDirectory, string? connectionString)
    {
        Directory.CreateDirectory(dataDirectory);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sanctum:DataDirectory"] = dataDirectory,
            ["Sanctum:PasswordWorkFactor"] = "4",
            ["ConnectionStrings:Sanctum"] = connectionString,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddOptions<SanctumOptions>().BindConfiguration(SanctumOptions.Section);
        services.AddSanctumDatabase();
        using (var provider = services.BuildServiceProvider()) provider.MigrateDatabase();
        SqliteConnection.ClearAllPools();
    }
}
