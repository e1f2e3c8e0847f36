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
                .WithGlobalConnectionString(sp => sp.GetRequiredService<Database>().ConnectionString)
                .ScanIn(typeof(Phase1MinimalSchema).Assembly).For.Migrations());
        return services;
    }

    /// <summary>Creates the data directory and the database file, and migrates it to the latest phase.</summary>
    public static void MigrateDatabase(this IServiceProvider services)
    {
        var database = services.GetRequiredService<Database>();
        // The data directory holds the database and the Data Protection key ring (not itself encrypted): owner only.
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(database.DataDirectory);
        else Directory.CreateDirectory(database.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.GetDirectoryName(database.FilePath)!);
        using (var connection = database.Open())
        {
            // WAL is a property of the file: set once, it stays.
            connection.Execute("PRAGMA journal_mode = WAL;");
        }
        using var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<IMigrationRunner>().MigrateUp();
    }
}
