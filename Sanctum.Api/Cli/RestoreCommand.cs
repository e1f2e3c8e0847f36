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
        var acceptForeign = new Option<bool>("--accept-foreign") { Description = "Restore a backup this installation did not sign (from another installation or an older build) when you trust it." };
        var command = new Command("restore", "Replace the data with a backup, after a pre-restore backup of the current data. Stop the server first.") { file, acceptForeign };
        command.SetAction(AdminCommands.Action(async (parse, output, cancellationToken) =>
        {
            var zip = parse.GetRequiredValue(file);
            if (!zip.Exists) throw new CommandFailedException($"There is no file {zip.FullName}.");
            services.GetRequiredService<DataDirectoryHold>().Exclusive("restore");
            services.MigrateDatabase(); // a new data directory gets an empty database to restore into
            RestoreReport report;
            try
            {
                report = await services.GetRequiredService<BackupStore>().RestoreAsync(zip.FullName,
                    new RestoreRequest(parse.GetValue(acceptForeign), Actor: AuditLog.CliActor), cancellationToken);
            }
            catch (BackupInvalidException e)
            {
                using var db = services.GetRequiredService<Database>().Open();
                await services.GetRequiredService<AuditLog>().RecordNowAsync(new AuditEvent("backup.restored", "backup", zip.Name,
                    new { problems = e.Problems.Count, origin = e.Origin, via = "cli" }, "refused") { Actor = AuditLog.CliActor }, db);
                throw;
            }
            await output.WriteLineAsync($"Restored {zip.FullName} (schema version {report.SchemaVersion}); the data before it is in {report.PreRestoreBackup}.");
            await output.WriteLineAsync($"The audit log was kept; {report.SessionsEnded} session(s) ended (everyone signs in again); {report.TokensKeptRevoked} access token(s) revoked since the backup stay revoked.");
            await output.WriteLineAsync("table: rows before -> after (added, removed, changed)");
            foreach (var t in report.Tables.Where(t => t.ContentChanged))
                await output.WriteLineAsync($"  {t.Table}: {t.Before?.ToString() ?? "-"} -> {t.After?.ToString() ?? "-"} (+{t.Added}, -{t.Removed}, ~{t.Changed})");
            return AdminCommands.Success;
        }));
        return command;
    }
}
