namespace Sanctum.Api.Data;

/// <summary>
/// The one lock of a data directory, across processes (an OS file lock: flock on Linux, share modes on Windows, both
/// released by the OS when a process dies, so a crash never leaves the directory locked).
/// <list type="bullet">
/// <item><see cref="Shared"/> on <c>sanctum.lock</c>: held for its whole life by every process that works beside
///   others: a running server, <c>backup</c>, <c>migrate</c>, <c>reset-admin-password</c>.</item>
/// <item><see cref="Exclusive"/> on <c>sanctum.lock</c>: for work nobody else may see half done, which replaces the
///   data: <c>restore FILE</c>, <c>import-flask</c>. Refused (<see cref="DataDirectoryInUseException"/>) while any
///   shared holder, a server say, is running; a server refuses to start while it is held.</item>
/// <item><see cref="Migrating"/> on <c>migrate.lock</c>: exclusive while the schema is migrated, waited for, so two
///   processes started together on a fresh directory migrate one after the other and both come up.</item>
/// </list>
/// In a process, take it through <see cref="DataDirectoryHold"/> (a singleton), which keeps the one hold a process
/// has; <c>MigrateDatabase</c> takes a shared hold unless one is held already. An admin command that replaces the data:
/// <code>services.GetRequiredService&lt;DataDirectoryHold&gt;().Exclusive("import-flask"); services.MigrateDatabase();</code>
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string LockFileName = "sanctum.lock";
    public const string MigrationLockFileName = "migrate.lock";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file, bool exclusive)
    {
        _file = file;
        IsExclusive = exclusive;
    }

    public bool IsExclusive { get; }

    /// <summary>A shared hold: refused only while someone holds the directory exclusively.</summary>
    public static DataDirectoryLock Shared(string dataDirectory) =>
        Open(dataDirectory, LockFileName, exclusive: false, purpose: null) ?? throw InUse(dataDirectory,
            $"an admin command that replaces the data ({Holder(dataDirectory)}) is running; wait for it to finish");

    /// <summary>The only hold: refused while a server or any other command uses the directory.</summary>
    public static DataDirectoryLock Exclusive(string dataDirectory, string purpose) =>
        Open(dataDirectory, LockFileName, exclusive: true, purpose) ?? throw InUse(dataDirectory,
            "a Sanctum server or another admin command is using it; stop the server first");

    /// <summary>Waits up to <paramref name="wait"/> for the right to migrate the schema.</summary>
    public static DataDirectoryLock Migrating(string dataDirectory, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (Open(dataDirectory, MigrationLockFileName, exclusive: true, "migrate") is { } held) return held;
            if (DateTime.UtcNow > deadline)
                throw InUse(dataDirectory, $"another process has been migrating the database for over {wait.TotalSeconds:0} s");
            Thread.Sleep(50);
        }
    }

    public void Dispose() => _file.Dispose();

    private static DataDirectoryLock? Open(string dataDirectory, string fileName, bool exclusive, string? purpose)
    {
        var path = Path.Combine(dataDirectory, fileName);
        try
        {
            // .NET takes flock(LOCK_EX) for FileShare.None and flock(LOCK_SH) for a read-only open that shares.
            var file = exclusive
                ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                : new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            // Who holds it, for the message of whoever is refused: beside the lock, since the locked file cannot be read.
            if (exclusive && purpose is not null && fileName == LockFileName)
                File.WriteAllText(path + ".holder", $"{purpose} (process {Environment.ProcessId})");
            return new DataDirectoryLock(file, exclusive);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    private static string Holder(string dataDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dataDirectory, LockFileName + ".holder")).Trim() is { Length: > 0 } holder ? holder : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static DataDirectoryInUseException InUse(string dataDirectory, string why) =>
        new($"The data directory {dataDirectory} is in use: {why}.");
}

/// <summary>The data directory is locked by another process (or another hold in this one).</summary>
public sealed class DataDirectoryInUseException(string message) : Exception(message);

/// <summary>The one hold this process keeps on its data directory (a singleton), released when the host stops.</summary>
public sealed class DataDirectoryHold(Database database) : IDisposable
{
    private readonly Lock _lock = new();
    private DataDirectoryLock? _held;

    public bool IsExclusive { get { lock (_lock) return _held?.IsExclusive == true; } }

    /// <summary>Takes a shared hold unless this process holds the directory already (either way).</summary>
    public void Shared()
    {
        lock (_lock) _held ??= DataDirectoryLock.Shared(Prepare());
    }

    /// <summary>Takes the exclusive hold (giving up a shared one first); throws <see cref="DataDirectoryInUseException"/>.</summary>
    public void Exclusive(string purpose)
    {
        lock (_lock)
        {
            if (_held is { IsExclusive: true }) return;
            var hadShared = _held is not null;
            _held?.Dispose();
            _held = null;
            try
            {
                _held = DataDirectoryLock.Exclusive(Prepare(), purpose);
            }
            catch (DataDirectoryInUseException) when (hadShared)
            {
                _held = DataDirectoryLock.Shared(database.DataDirectory);
                throw;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _held?.Dispose();
            _held = null;
        }
    }

    /// <summary>Creates the data directory, owner-only: it holds the database and the (unencrypted) key ring.</summary>
    private string Prepare()
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(database.DataDirectory);
        else Directory.CreateDirectory(database.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return database.DataDirectory;
    }
}
