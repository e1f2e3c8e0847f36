using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Backups;

/// <summary>What <c>manifest.json</c> in a backup says: when, by which build, at which schema, and each file's checksum.</summary>
public sealed record BackupManifest(int Format, string CreatedAt, string AppVersion, long SchemaVersion, string Kind, IReadOnlyList<BackupManifestFile> Files)
{
    public const int CurrentFormat = 1;
}

public sealed record BackupManifestFile(string Name, long Size, string Sha256);

/// <summary>
/// A backup's <c>.zip</c>: the database, <c>keys/*.xml</c> (the Data Protection key ring, without which the stored
/// secrets cannot be read) and <c>manifest.json</c>. The database is <c>sanctum.db</c> (an online copy of SQLite's file;
/// the key ring is a folder beside it) or, on PostgreSQL, <c>sanctum.pgdump</c> (pg_dump's custom format; the key ring
/// is a table in it, encrypted under Sanctum:KeyRingKey). Reading one trusts nothing:
/// entry names and the total uncompressed size are checked before a byte is extracted, every file against the
/// manifest's size and SHA-256.
/// </summary>
public static partial class BackupArchive
{
    public const string DatabaseEntry = "sanctum.db";
    public const string PostgresEntry = "sanctum.pgdump";
    public const string ManifestEntry = "manifest.json";
    private const int MaxManifestBytes = 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    [GeneratedRegex(@"^keys/[A-Za-z0-9_.-]{1,100}\.xml$")]
    private static partial Regex KeyEntry();

    /// <summary>
    /// Writes the zip from a database copy (its entry name: <see cref="DatabaseEntry"/> or <see cref="PostgresEntry"/>) and
    /// the key ring folder, if any; the manifest lists what was written.
    /// </summary>
    public static BackupManifest Write(string zipPath, string databaseEntry, string databaseCopy, string? keysDirectory,
        string createdAt, string appVersion, long schemaVersion, string kind)
    {
        var files = new List<(string Entry, string Source)> { (databaseEntry, databaseCopy) };
        if (keysDirectory is not null && Directory.Exists(keysDirectory))
            files.AddRange(Directory.EnumerateFiles(keysDirectory, "*.xml").Order(StringComparer.Ordinal)
                .Select(f => ("keys/" + Path.GetFileName(f), f)).Where(f => KeyEntry().IsMatch(f.Item1)));

        using var stream = Infrastructure.OwnerOnlyFile.Open(zipPath, FileMode.CreateNew);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create);
        var listed = new List<BackupManifestFile>();
        foreach (var (entryName, source) in files)
        {
            using var input = File.OpenRead(source);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var output = zip.CreateEntry(entryName, CompressionLevel.Optimal).Open())
            {
                var buffer = new byte[81920];
                int read;
                long size = 0;
                while ((read = input.Read(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    output.Write(buffer, 0, read);
                    size += read;
                }
                listed.Add(new BackupManifestFile(entryName, size, Convert.ToHexStringLower(hash.GetHashAndReset())));
            }
        }
        var manifest = new BackupManifest(BackupManifest.CurrentFormat, createdAt, appVersion, schemaVersion, kind, listed);
        using (var output = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal).Open())
            JsonSerializer.Serialize(output, manifest, Json);
        return manifest;
    }

    /// <summary>The manifest alone (for listing), or null when the file has none that parses.</summary>
    public static BackupManifest? ReadManifest(string zipPath)
    {
        try
        {
            using var zip = ZipFile.OpenRead(zipPath);
            return zip.GetEntry(ManifestEntry) is { } entry ? ParseManifest(entry, []) : null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The database entry a manifest lists (sanctum.db or sanctum.pgdump), or null when it lists none.</summary>
    public static string? DatabaseEntryOf(BackupManifest manifest) =>
        manifest.Files.Select(f => f.Name).FirstOrDefault(IsDatabaseEntry);

    private static bool IsDatabaseEntry(string name) => name is DatabaseEntry or PostgresEntry;

    /// <summary>
    /// Checks the archive against its manifest; with <paramref name="extractDatabaseTo"/> also writes the database entry
    /// there (checked while it is written). Problems are sentences for people; none means the archive is what it claims.
    /// </summary>
    public static (BackupManifest? Manifest, List<string> Problems) Check(string zipPath, long maxUncompressedBytes, string? extractDatabaseTo = null)
    {
        var problems = new List<string>();
        try
        {
            using var zip = ZipFile.OpenRead(zipPath);
            var names = new HashSet<string>(StringComparer.Ordinal);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                if (!IsDatabaseEntry(entry.FullName) && entry.FullName != ManifestEntry && !KeyEntry().IsMatch(entry.FullName))
                    problems.Add($"Unexpected entry '{Printable(entry.FullName)}'.");
                else if (!names.Add(entry.FullName))
                    problems.Add($"The entry '{entry.FullName}' appears twice.");
                total += entry.Length;
            }
            if (total > maxUncompressedBytes) problems.Add($"The files add up to {total} bytes uncompressed, over the limit of {maxUncompressedBytes}.");
            if (problems.Count > 0) return (null, problems);

            if (zip.GetEntry(ManifestEntry) is not { } manifestEntry) return (null, ["manifest.json is missing."]);
            var manifest = ParseManifest(manifestEntry, problems);
            if (manifest is null) return (null, problems);

            var listed = manifest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
            foreach (var name in names.Where(n => n != ManifestEntry && !listed.ContainsKey(n))) problems.Add($"'{name}' is not in the manifest.");
            foreach (var name in listed.Keys.Where(n => !names.Contains(n))) problems.Add($"'{Printable(name)}' is in the manifest but not in the archive.");
            var databases = listed.Keys.Count(IsDatabaseEntry);
            if (databases == 0) problems.Add("The manifest lists no sanctum.db.");
            else if (databases > 1) problems.Add("The manifest lists both sanctum.db and sanctum.pgdump.");
            if (problems.Count > 0) return (manifest, problems);

            foreach (var file in manifest.Files)
            {
                var entry = zip.GetEntry(file.Name)!;
                if (entry.Length != file.Size) { problems.Add($"{file.Name}: {entry.Length} bytes, the manifest says {file.Size}."); continue; }
                using var input = entry.Open();
                using var output = IsDatabaseEntry(file.Name) && extractDatabaseTo is not null
                    ? Infrastructure.OwnerOnlyFile.Open(extractDatabaseTo, FileMode.Create)
                    : Stream.Null;
                var (size, sha) = CopyHashed(input, output, file.Size);
                if (size != file.Size) problems.Add($"{file.Name}: {size} bytes, the manifest says {file.Size}.");
                else if (!string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase)) problems.Add($"{file.Name}: the SHA-256 does not match the manifest.");
            }
            return (manifest, problems);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            problems.Add($"The file is not a readable zip archive ({e.Message}).");
            return (null, problems);
        }
    }

    /// <summary>Copies at most <paramref name="limit"/> + 1 bytes (a lying entry is caught, not followed), hashing them.</summary>
    private static (long Size, string Sha256) CopyHashed(Stream input, Stream output, long limit)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long size = 0;
        int read;
        while ((read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, limit + 1 - size))) > 0)
        {
            hash.AppendData(buffer, 0, read);
            output.Write(buffer, 0, read);
            size += read;
            if (size > limit) break;
        }
        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static BackupManifest? ParseManifest(ZipArchiveEntry entry, List<string> problems)
    {
        if (entry.Length > MaxManifestBytes) { problems.Add("manifest.json is too large."); return null; }
        try
        {
            using var stream = entry.Open();
            var manifest = JsonSerializer.Deserialize<BackupManifest>(stream, Json);
            if (manifest is null || manifest.Files is null || manifest.Kind is null || manifest.CreatedAt is null)
                problems.Add("manifest.json lacks required fields.");
            else if (manifest.Format != BackupManifest.CurrentFormat)
                problems.Add($"manifest.json has format {manifest.Format}; this build reads format {BackupManifest.CurrentFormat}.");
            else if (!BackupKinds.All.Contains(manifest.Kind))
                problems.Add($"manifest.json has an unknown kind '{Printable(manifest.Kind)}'.");
            else if (manifest.Files.Any(f => f?.Name is null || f.Sha256 is null))
                problems.Add("manifest.json lists a file without a name or checksum.");
            else
                return manifest;
        }
        catch (JsonException e)
        {
            problems.Add($"manifest.json is not valid JSON ({e.Message}).");
        }
        return null;
    }

    private static string Printable(string text) =>
        new(text.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

public static class BackupKinds
{
    public const string Manual = "manual", Scheduled = "scheduled", PreRestore = "pre-restore";
    public static readonly string[] All = [Manual, Scheduled, PreRestore];
}
