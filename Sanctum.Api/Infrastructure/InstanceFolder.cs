using System.Security.Cryptography;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Safe file access inside a tool instance's folder (its <c>home</c>): paths that cannot leave the folder, reads with
/// the ETag of their bytes, and atomic replacement (a temporary file in the same folder, fsync, rename) that keeps the
/// file's permissions.
/// </summary>
public static class InstanceFolder
{
    /// <summary>The full path of <paramref name="relative"/> inside <paramref name="home"/>, or null when it would leave it (.., absolute paths, symlinks out).</summary>
    public static string? Inside(string home, string relative)
    {
        if (string.IsNullOrEmpty(relative) || Path.IsPathRooted(relative) || relative.Contains('\0')) return null;
        var root = Path.GetFullPath(home).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (!full.StartsWith(root, StringComparison.Ordinal)) return null;
        // A symbolic link inside the folder may point outside it: follow it and check again.
        if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target
            && !Path.GetFullPath(target.FullName).StartsWith(root, StringComparison.Ordinal)) return null;
        return full;
    }

    /// <summary>The bytes of a file, or null when it does not exist.</summary>
    public static async Task<byte[]?> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try { return await File.ReadAllBytesAsync(path, cancellationToken); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    /// <summary>A strong ETag of the file's bytes; a missing file has the ETag "absent".</summary>
    public static string ETagOf(byte[]? content) =>
        content is null ? "\"absent\"" : $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..32]}\"";

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> so that a reader sees the old file or the new one,
    /// never a part: written to a temporary file beside it, flushed to the disk, given the old file's permissions, renamed.
    /// </summary>
    public static async Task WriteAtomicAsync(string path, byte[] content, CancellationToken cancellationToken = default)
    {
        var folder = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(path)) File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
