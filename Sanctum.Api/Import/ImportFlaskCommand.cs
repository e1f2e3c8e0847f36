using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Events;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Import;

/// <summary>
/// <c>import-flask PATH [--dry-run]</c>: moves a Flask control panel's database into the configured data directory,
/// with the server stopped. The import is one transaction on the target: it lands whole or not at all. A dry run does
/// the same import on a scratch copy of the data directory and throws the copy away.
/// </summary>
public static class ImportFlaskCommand
{
    public const string Name = "import-flask";

    public static Command Create(IServiceProvider services)
    {
        var path = new Argument<FileInfo>("path") { Description = "The Flask control panel's SQLite file, e.g. control/db/sanctum_ui.db" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what the import would do and write nothing" };
        var command = new Command(Name, "Import users, agents, settings and web chat from the Flask control panel (run with the server stopped)")
        {
            path,
            dryRun,
        };
        command.SetAction((parse, _) => RunAsync(services, parse.GetValue(path)!.FullName, parse.GetValue(dryRun),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    public static async Task<int> RunAsync(IServiceProvider services, string path, bool dryRun, TextWriter output, TextWriter error)
    {
        var database = services.GetRequiredService<Database>();
        if (FlaskSource.Refusal(path, out var opened) is { } refusal)
        {
            error.WriteLine(refusal.Reason);
            return refusal.ExitCode;
        }
        using var source = opened!;
        // A dry run only reads the target, so it may run beside a server; a real import holds the data directory alone.
        if (!dryRun)
        {
            try
            {
                services.GetRequiredService<DataDirectoryHold>().Exclusive(Name);
            }
            catch (DataDirectoryInUseException e)
            {
                error.WriteLine(e.Message);
                return ImportExitCodes.DataDirectoryInUse;
            }
        }

        output.WriteLine(dryRun
            ? database.IsSqlite ? $"Dry run: importing {path} into a scratch copy of {database.Description}; nothing will be written."
                : $"Dry run: importing {path} into a transaction, rolled back, of {database.Description}."
            : $"Importing {path} into {database.Description}.");
        var audit = services.GetService<AuditLog>();
        var migratedForDryRun = false;
        try
        {
            // A PostgreSQL server cannot be copied aside: the same import runs in a transaction that is rolled back,
            // on the schema a server start would leave.
            var report = !dryRun ? await ImportAsync(services, source)
                : database.IsSqlite ? await ImportIntoScratchCopyAsync(services, source)
                : await ImportAsync(services, source, migrate: () => migratedForDryRun = services.MigratePostgresSchema(), rollBack: true);
            report.WriteTo(output);
            output.WriteLine(!dryRun ? "Done. Everyone signs in again with their old password."
                : migratedForDryRun ? "Dry run: the schema was brought up to date first, as a server start does; nothing else was written."
                : "Dry run: nothing was written.");
            if (!dryRun) audit?.Record(new AuditEvent("import.flask", "database", database.Description, report.Summary()));
            return ImportExitCodes.Done;
        }
        catch (Exception e)
        {
            error.WriteLine($"The import failed and nothing was changed: {e.Message}");
            if (!dryRun) audit?.Record(new AuditEvent("import.flask", "database", database.Description, new { error = e.GetType().Name }, "failed"));
            return ImportExitCodes.Failed;
        }
    }

    /// <summary>Migrates the target, then imports everything in one transaction: a failure part-way rolls it all back.</summary>
    private static async Task<ImportReport> ImportAsync(IServiceProvider services, FlaskSource source, bool dryRun = false, bool rollBack = false, Action? migrate = null)
    {
        (migrate ?? services.MigrateDatabase)();
        using var connection = services.GetRequiredService<Database>().Open();
        using var transaction = connection.BeginTransaction();
        var now = Timestamp.Now(services.GetRequiredService<TimeProvider>());
        var passwords = new PasswordHasher(services.GetRequiredService<IOptions<SanctumOptions>>());
        var context = new ImportContext(source, connection, transaction, services.GetRequiredService<Secrets>(),
            services.GetRequiredService<SettingsCore>(), passwords, now);
        var report = await FlaskImporter.RunAsync(context);
        if (rollBack)
        {
            transaction.Rollback();
            return report;
        }
        transaction.Commit();
        if (!dryRun) context.AfterCommit.ForEach(action => action());
        return report;
    }

    /// <summary>
    /// The same import on a copy of the database and key ring in a temporary directory, so that a dry run reports
    /// exactly what a real run would do (a fresh install's migration included) without writing to the data directory.
    /// </summary>
    private static async Task<ImportReport> ImportIntoScratchCopyAsync(IServiceProvider services, FlaskSource source)
    {
        var database = services.GetRequiredService<Database>();
        var scratch = Directory.CreateTempSubdirectory("sanctum-import-").FullName;
        try
        {
            if (File.Exists(database.FilePath))
            {
                using var from = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database.FilePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
                using var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(scratch, "sanctum.db"), Pooling = false }.ToString());
                from.Open();
                to.Open();
                from.BackupDatabase(to);
            }
            var keys = Path.Combine(database.DataDirectory, "keys");
            if (Directory.Exists(keys))
            {
                Directory.CreateDirectory(Path.Combine(scratch, "keys"));
                foreach (var key in Directory.GetFiles(keys, "*.xml")) File.Copy(key, Path.Combine(scratch, "keys", Path.GetFileName(key)));
            }
            using var scratchServices = ScratchServices(scratch, services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<IOptions<SanctumOptions>>().Value.PasswordWorkFactor);
            return await ImportAsync(scratchServices, source, dryRun: true);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static ServiceProvider ScratchServices(string dataDirectory, TimeProvider clock, int passwordWorkFactor)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{SanctumOptions.Section}:{nameof(SanctumOptions.DataDirectory)}"] = dataDirectory,
            // The service's own: the import compares old hashes' costs with it, so the dry run must report what a real run does.
            [$"{SanctumOptions.Section}:{nameof(SanctumOptions.PasswordWorkFactor)}"] = passwordWorkFactor.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSingleton(clock).AddLogging()
            .AddAuditCore()
            // Nobody subscribes to a scratch copy: its events go nowhere.
            .AddEventHub();
        services.AddOptions<SanctumOptions>().BindConfiguration(SanctumOptions.Section);
        services.AddSanctumDatabase();
        services.AddSanctumSecrets();
        services.AddSettings();
        return services.BuildServiceProvider();
    }
}
