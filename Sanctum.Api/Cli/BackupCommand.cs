using System.CommandLine;
using Sanctum.Api.Audit;
using Sanctum.Api.Backups;
using Sanctum.Api.Data;

namespace Sanctum.Api.Cli;

/// <summary><c>backup [--out FILE]</c>: an online backup, beside a running server or without one.</summary>
public static class BackupCommand
{
    public static Command Create(IServiceProvider services)
    {
        var outFile = new Option<FileInfo>("--out") { Description = "Write the backup .zip here instead of the backups folder." };
        var command = new Command("backup", "Back up the database and key ring now (works while the server runs).") { outFile };
        command.SetAction(AdminCommands.Action(async (parse, output, _) =>
        {
            var database = services.GetRequiredService<Database>();
            services.GetRequiredService<DataDirectoryHold>().Shared();
            if (database.IsSqlite && !File.Exists(database.FilePath)) throw new CommandFailedException($"There is no database at {database.FilePath}.");
            var store = services.GetRequiredService<BackupStore>();
            var target = parse.GetValue(outFile)?.FullName;
            var backup = store.Create(BackupKinds.Manual, target);
            using (var db = database.Open())
                await services.GetRequiredService<AuditLog>().RecordNowAsync(new AuditEvent("backup.created", "backup", backup.Name,
                    new { kind = backup.Kind, size = backup.Size, via = "cli" }) { Actor = AuditLog.CliActor }, db);
            await output.WriteLineAsync(target ?? Path.Combine(store.Directory, backup.Name));
            return AdminCommands.Success;
        }));
        return command;
    }
}
