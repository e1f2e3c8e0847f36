using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Sanctum.Api.Data;

/// <summary>
/// What must hold before the service answers: the data directory is usable, the database is this install's (not
/// lost beside the key ring of an earlier one) and migrated. A problem ends the start with one line naming the path
/// and the cause, instead of an unhandled-exception abort or, worse, a silent fresh install with the default admin.
/// </summary>
public static class StartupChecks
{
    /// <summary>Null when the options are valid, else the line to print before exiting (instead of a stack trace, or a 500 later).</summary>
    public static string? InvalidOptions(IServiceProvider services)
    {
        try
        {
            _ = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SanctumOptions>>().Value;
            return null;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            return $"sanctum: invalid configuration: {string.Join(" ", e.Failures)}";
        }
    }

    /// <summary>Null when the service may start, else the line to print before exiting.</summary>
    public static string? Run(IServiceProvider services)
    {
        var database = services.GetRequiredService<Database>();
        var keys = Path.Combine(database.DataDirectory, "keys");
        try
        {
            var file = new FileInfo(database.FilePath ?? keys);
            if (database.IsSqlite && Directory.Exists(keys) && Directory.EnumerateFileSystemEntries(keys).Any() && (!file.Exists || file.Length == 0))
                return $"sanctum: refusing to start: {database.FilePath} is {(file.Exists ? "empty" : "missing")} but {keys} holds an earlier "
                    + "install's keys; restore the database from a backup, or move the data directory away to start a fresh install.";
            if (!database.IsSqlite && KeyRingKey.Parse(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SanctumOptions>>().Value.KeyRingKey, out var problem) is null)
                return $"sanctum: refusing to start on PostgreSQL: {problem}; set it to the same 32 random bytes (base64, e.g. `openssl rand -base64 32`) on every instance: it encrypts the key ring kept in the database.";
            if (database.IsSqlite && ReadOnlyProbe.Find(database) is { } readOnly)
                return $"sanctum: cannot start: {readOnly} is read-only (check its permissions, attributes and mount): the service writes its database and keys there.";
            services.MigrateDatabase();
            // SQLite creates the file with the umask's mode; its -wal and -shm files take the database file's.
            if (database.FilePath is { } path) Infrastructure.OwnerOnlyFile.Restrict(path);
            foreach (var step in services.GetServices<AfterMigration>())
                SerializationRetry.RunAsync(() => step.RunAsync(services)).GetAwaiter().GetResult(); // the host is not running yet
            return null;
        }
        catch (DataDirectoryInUseException e)
        {
            return $"sanctum: cannot start: {e.Message}";
        }
        catch (SqliteException e)
        {
            return $"sanctum: cannot use the database {database.FilePath}: {Cause(e)}";
        }
        catch (DbException e)
        {
            return $"sanctum: cannot use the {database.Description}: {e.Message}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"sanctum: cannot use the data directory {database.DataDirectory}: {e.Message}";
        }
    }

    private static string Cause(SqliteException e) => e.SqliteErrorCode switch
    {
        8 => "it is read-only (check the file's and the directory's permissions and the mount)",
        11 or 26 => "it is not a valid SQLite database or is corrupt (restore it from a backup)",
        13 => "the disk is full",
        14 => "it cannot be opened (check the path and permissions)",
        _ => e.Message,
    } + $" [SQLite error {e.SqliteErrorCode}]";
}
