using System.CommandLine;
using Microsoft.Extensions.Logging.Console;
using Sanctum.Api.Backups;
using Sanctum.Api.Data;

namespace Sanctum.Api.Cli;

/// <summary>
/// The admin command line on the server's own binary: <c>dotnet Sanctum.Api.dll &lt;command&gt;</c> (or
/// <c>dotnet run --project Sanctum.Api -- &lt;command&gt;</c>) runs one command with the server's configuration and
/// services, and exits; with no command the binary runs the server. Adding a command is one line in <see cref="Commands"/>.
/// </summary>
public static class AdminCommands
{
    public const int Success = 0, UsageError = 1, Failed = 2, DataDirectoryInUse = 3;

    /// <summary>Each command's factory; a command gets the built services and returns its <see cref="Command"/>.</summary>
    private static readonly Func<IServiceProvider, Command>[] Commands =
    [
        MigrateCommand.Create,
        BackupCommand.Create,
        RestoreCommand.Create,
        ResetAdminPasswordCommand.Create,
        HealthcheckCommand.Create,
        Import.ImportFlaskCommand.Create,
    ];

    public const string Description = """
        Sanctum.Api admin commands. Without a command the binary runs the server.
        Settings come from appsettings.json and the environment (Sanctum__DataDirectory, ASPNETCORE_URLS, ...).

        Exit codes: 0 done; 1 the command line is wrong; 2 the command failed (invalid backup, unknown user,
        server not ready, ...); 3 the data directory is in use (restore or import while a server runs: stop it first);
        import-flask only: 4 the file is not SQLite, 5 it is not a Flask control panel database.
        """;

    /// <summary>True when the arguments name a command (or ask for help) rather than start the server.</summary>
    public static bool Requested(string[] args) =>
        args.Length > 0 && (!args[0].StartsWith('-') || args[0] is "--help" or "-h" or "-?" or "--version");

    /// <summary>For a command, logs go to stderr (stdout carries the command's own output) and only warnings and audit events show.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("Sanctum.Api.Audit", LogLevel.Information);
    }

    public static Task<int> RunAsync(string[] args, IServiceProvider services, TextWriter? output = null, TextWriter? error = null)
    {
        var root = new RootCommand(Description);
        foreach (var create in Commands) root.Subcommands.Add(create(services));
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error });
    }

    /// <summary>A command's action with the errors every command shares turned into a message and an exit code.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Action(Func<ParseResult, TextWriter, CancellationToken, Task<int>> action) =>
        async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                return await action(parse, output, cancellationToken);
            }
            catch (DataDirectoryInUseException e)
            {
                await error.WriteLineAsync(e.Message);
                return DataDirectoryInUse;
            }
            catch (BackupInvalidException e)
            {
                await error.WriteLineAsync("The backup failed its checks; nothing was changed:");
                foreach (var problem in e.Problems) await error.WriteLineAsync("  " + problem);
                return Failed;
            }
            catch (Exception e) when (e is CommandFailedException or BackupToolException or IOException or UnauthorizedAccessException or System.Data.Common.DbException)
            {
                await error.WriteLineAsync(e.Message);
                return Failed;
            }
        };
}

/// <summary>A command could not do its work; the message says why.</summary>
public sealed class CommandFailedException(string message) : Exception(message);
