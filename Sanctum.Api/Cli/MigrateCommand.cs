using System.CommandLine;
using Sanctum.Api.Backups;
using Sanctum.Api.Data;

namespace Sanctum.Api.Cli;

/// <summary><c>migrate</c>: creates or migrates the database to this build's schema (safe beside a running server).</summary>
public static class MigrateCommand
{
    public static Command Create(IServiceProvider services)
    {
        var command = new Command("migrate", "Create the database or migrate it to this build's schema; safe while a server runs.");
        command.SetAction(AdminCommands.Action(async (_, output, _) =>
        {
            services.MigrateDatabase();
            var database = services.GetRequiredService<Database>();
            long version;
            using (var db = database.Open()) version = SchemaVersions.Of(db, database.Dialect);
            await output.WriteLineAsync($"{database.Description} is at schema version {version}.");
            return AdminCommands.Success;
        }));
        return command;
    }
}
