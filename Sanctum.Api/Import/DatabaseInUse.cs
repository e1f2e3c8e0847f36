namespace Sanctum.Api.Import;

/// <summary>
/// Whether another process has the database open, read from SQLite's own locks: in WAL mode every open connection
/// holds a shared POSIX lock on byte 128 of the <c>-shm</c> file (SQLite's "dead man switch"), which a running server's
/// pooled connections never let go. An exclusive lock on that byte therefore succeeds only when nobody else has the
/// database open. Must run before this process opens the database itself: closing a file drops all of a process's
/// POSIX locks on it, SQLite's included. Linux only (where the service is deployed); elsewhere it answers false.
/// Interim: the operations work's data-directory lock takes its place when it lands.
/// </summary>
public static class DatabaseInUse
{
    private const long DeadManSwitchByte = 128;

    public static bool ByAnotherProcess(string databasePath)
    {
        var shm = databasePath + "-shm";
        if (!OperatingSystem.IsLinux() || !File.Exists(shm)) return false;
        try
        {
            using var file = new FileStream(shm, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            file.Lock(DeadManSwitchByte, 1);
            file.Unlock(DeadManSwitchByte, 1);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
