using System.CommandLine;
using Sanctum.Api.Audit;
using Sanctum.Api.Backups;
using Sanctum.Api.Data;

namespace Sanctum.Api.Cli;

/// <summary><c>restore FILE</c>: replaces the data with a backup; refuses while a server holds the data directory.</summary>
public static class RestoreCommand
{
    public static Command Create(IServiceProvider services)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The backup .zip (from the backups folder, a download or backup --out)." };
        var command = new Command("restore", "Replace the data with a backup, after a pre-restore backup of the current data. Stop the server first.") { file };
        command.SetAction(AdminCommands.Action(async (parse, output, cancellationToken) =>
        {
            var zip = parse.GetRequiredValue(file);
            if (!zip.Exists) throw new CommandFailedException($"There is no file {zip.FullName}.");
            services.GetRequiredService<DataDirectoryHold>().Exclusive("restore");
            services.MigrateDatabase(); // a new data directory gets an empty database to restore into
            var report = await services.GetRequiredService<BackupStore>().RestoreAsync(zip.FullName, cancellationToken);
            services.GetRequiredService<AuditLog>().Record(new AuditEvent("backup.restored", "backup", report.Restored,
                new { pre_restore = report.PreRestoreBackup, schema_version = report.SchemaVersion, via = "cli" }));
            await output.WriteLineAsync($"Restored {zip.FullName} (schema version {report.SchemaVersion}); the data before it is in {report.PreRestoreBackup}.");
            await output.WriteLineAsync("table: rows before -> after");
            foreach (var t in report.Tables) await output.WriteLineAsync($"  {t.Table}: {t.Before?.ToString() ?? "-"} -> {t.After?.ToString() ?? "-"}");
            return AdminCommands.Success;
        }));
        return command;
    }
}
