namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Files that hold the data (the database, backups and their uploads) are created readable and writable by the
/// service's user only (0600), whatever the umask: the umask can only take bits away from the mode asked for.
/// </summary>
public static class OwnerOnlyFile
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static FileStream Open(string path, FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = Mode;
        var stream = new FileStream(path, options);
        // An existing file keeps its mode on FileMode.Create: set it either way.
        Restrict(path);
        return stream;
    }

    /// <summary>Makes an existing file owner-only (the database SQLite created, a moved backup).</summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path)) File.SetUnixFileMode(path, Mode);
    }
}
