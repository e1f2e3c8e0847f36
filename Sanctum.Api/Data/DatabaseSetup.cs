using Dapper;
using FluentMigrator.Runner;
using Sanctum.Migrations;

namespace Sanctum.Api.Data;

public static class DatabaseSetup
{
    /// <summary>The database, its migration runner and the seed settings the first migration reads.</summary>
    public static IServiceCollection AddSanctumDatabase(this IServiceCollection services)
    {
        DapperSetup.Configure();
        services.AddSingleton<Database>();
        services.AddSingleton<DataDirectoryHold>();
        // One connection per request; Dapper opens and closes it around each call and the pool keeps that cheap.
        services.AddScoped(sp => sp.GetRequiredService<Database>().Create());
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SanctumOptions>>().Value;
            return new SeedSettings { AdminPasswordHash = Auth.BootstrapAdmin.SeedHash(options), BcryptWorkFactor = options.PasswordWorkFactor };
        });
        services.AddFluentMigratorCore()
            .ConfigureRunner(runner => runner
                .AddSQLite()
                .AddPostgres()
                .WithGlobalConnectionString(sp => sp.GetRequiredService<Database>().ConnectionString)
                .ScanIn(typeof(Phase1MinimalSchema).Assembly).For.Migrations());
        // Both processors are registered; the engine the connection string selects picks one.
        services.AddOptions<FluentMigrator.Runner.Processors.SelectingProcessorAccessorOptions>()
            .Configure<Database>((o, db) => o.ProcessorId = db.IsSqlite ? "SQLite" : "PostgreSQL");
        return services;
    }

    /// <summary>
    /// Holds the data directory (shared, unless this process holds it exclusively already: <see cref="DataDirectoryHold"/>),
    /// creates the database and migrates it to the latest phase, one process at a time: on SQLite under a file lock
    /// beside the database, on PostgreSQL under an advisory lock of the database (so instances on other machines wait too).
    /// </summary>
    public static void MigrateDatabase(this IServiceProvider services)
    {
        services.GetRequiredService<DataDirectoryHold>().Shared();
        MigrateSchema(services);
    }

    /// <summary>
    /// Migrates a PostgreSQL database to the latest phase (under the advisory lock) without holding the data directory,
    /// which holds nothing of it: for a dry run, which must leave the directory untouched. True when anything was applied.
    /// </summary>
    public static bool MigratePostgresSchema(this IServiceProvider services)
    {
        if (services.GetRequiredService<Database>().IsSqlite) throw new InvalidOperationException("The database is SQLite: migrate it with MigrateDatabase.");
        using var scope = services.CreateScope();
        if (!scope.ServiceProvider.GetRequiredService<IMigrationRunner>().HasMigrationsToApplyUp()) return false;
        MigrateSchema(services);
        return true;
    }

    private static void MigrateSchema(IServiceProvider services)
    {
        var database = services.GetRequiredService<Database>();
        if (database.IsSqlite)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(database.FilePath)!);
            // Two processes started together on a fresh directory would both create the tables: one migrates at a time.
            using var migrating = DataDirectoryLock.Migrating(database.DataDirectory, TimeSpan.FromSeconds(120));
            using (var connection = database.Open())
            {
                // WAL is a property of the file: set once, it stays.
                connection.Execute("PRAGMA journal_mode = WAL;");
            }
            MigrateUp(services);
            return;
        }
        using var locked = database.Open();
        PostgresLocks.Wait(locked, PostgresLocks.Migration, TimeSpan.FromSeconds(120), "another instance has been migrating the database");
        try
        {
            MigrateUp(services);
            // Statement triggers that announce every commit (the result caches' version, Data/PostgresCommits.cs).
            locked.Execute(PostgresCommits.InstallTriggersSql);
        }
        finally
        {
            PostgresLocks.Release(locked, PostgresLocks.Migration);
        }
    }

    private static void MigrateUp(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<IMigrationRunner>().MigrateUp();
    }
}
