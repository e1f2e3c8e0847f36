namespace Sanctum.Api.Data;

/// <summary>
/// Finds a read-only data directory or SQLite file before anything waits on them: SQLite would fail every write with
/// a 500, and opening an existing lock file for writing on a read-only mount fails like a held lock, so the migration
/// lock would be waited for 120 s and blamed on another process.
/// </summary>
public static class ReadOnlyProbe
{
    /// <summary>
    /// The first path the service cannot write (the directory, the database or its -wal/-shm file), or null. Only
    /// before this process opens the database: closing any descriptor of a file drops every POSIX lock the process
    /// holds on it, SQLite's included, so a running server must use <see cref="FindDirectory"/>.
    /// </summary>
    public static string? Find(Database database)
    {
        if (FindDirectory(database) is { } directory) return directory;
        if (database.FilePath is not { } path) return null;
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (!File.Exists(file)) continue;
            try
            {
                // Opened for writing, nothing written: SQLite takes its own (fcntl) locks, untouched by this one.
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)) { }
            }
            catch (Exception e) when (IsReadOnly(e))
            {
                return file;
            }
        }
        return null;
    }

    /// <summary>The data directory when it cannot be written (a new file cannot be created in it), else null.</summary>
    public static string? FindDirectory(Database database)
    {
        if (!Directory.Exists(database.DataDirectory)) return null;
        try
        {
            using (new FileStream(Path.Combine(database.DataDirectory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}"),
                       FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (IsReadOnly(e))
        {
            return database.DataDirectory;
        }
    }

    // EACCES and EPERM (permissions, an immutable attribute) arrive as UnauthorizedAccessException, EROFS (a read-only
    // mount) as an IOException saying so; anything else (a full disk, say) is not this check's to name.
    private static bool IsReadOnly(Exception e) =>
        e is UnauthorizedAccessException || (e is IOException && e.Message.Contains("read-only", StringComparison.OrdinalIgnoreCase));
}
