using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml;

namespace Sanctum.Api.Backups;

/// <summary>What <c>manifest.json</c> in a backup says: when, by which build, at which schema, and each file's checksum.</summary>
public sealed record BackupManifest(int Format, string CreatedAt, string AppVersion, long SchemaVersion, string Kind, IReadOnlyList<BackupManifestFile> Files)
{
    public const int CurrentFormat = 1;
}

public sealed record BackupManifestFile(string Name, long Size, string Sha256);

/// <summary>Who vouches for a backup: this installation's key signed its manifest, nobody did, or another key did.</summary>
public static class BackupOrigins
{
    public const string Signed = "signed", Unsigned = "unsigned", Foreign = "foreign";
    public static readonly string[] All = [Signed, Unsigned, Foreign];
}

/// <summary>What checking an archive found: its manifest (when readable), its problems (none: sound), its origin.</summary>
public sealed record BackupCheck(BackupManifest? Manifest, List<string> Problems, string Origin);

/// <summary>
/// A backup's <c>.zip</c>: the database, <c>keys/*.xml</c> (the Data Protection key ring, without which the stored
/// secrets cannot be read) and <c>manifest.json</c>. The database is <c>sanctum.db</c> (an online copy of SQLite's file;
/// the key ring is a folder beside it) or, on PostgreSQL, <c>sanctum.pgdump</c> (pg_dump's custom format; the key ring
/// is a table in it, encrypted under Sanctum:KeyRingKey). <c>manifest.sig</c> is an HMAC-SHA256 of the manifest's bytes
/// under <see cref="Audit.RecordKeys.BackupKey"/>, a key that is not in the backup, so a backup this installation did
/// not make (or one edited since) is told apart. Reading one trusts nothing: entry names, entry types (no symlink or
/// special file) and the total uncompressed size are checked before a byte is extracted, every file against the
/// manifest's size and SHA-256, every key file for well-formed key XML.
/// </summary>
public static partial class BackupArchive
{
    public const string DatabaseEntry = "sanctum.db";
    public const string PostgresEntry = "sanctum.pgdump";
    public const string ManifestEntry = "manifest.json";
    public const string SignatureEntry = "manifest.sig";
    private const int MaxManifestBytes = 1024 * 1024, MaxKeyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    [GeneratedRegex(@"^keys/[A-Za-z0-9_.-]{1,100}\.xml$")]
    private static partial Regex KeyEntry();

    /// <summary>
    /// Writes the zip from a database copy (its entry name: <see cref="DatabaseEntry"/> or <see cref="PostgresEntry"/>) and
    /// the key ring folder, if any; the manifest lists what was written.
    /// </summary>
    public static BackupManifest Write(string zipPath, string databaseEntry, string databaseCopy, string? keysDirectory,
        string createdAt, string appVersion, long schemaVersion, string kind, byte[] signingKey)
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
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
        using (var output = zip.CreateEntry(ManifestEntry, CompressionLevel.Optimal).Open()) output.Write(bytes);
        using (var output = zip.CreateEntry(SignatureEntry, CompressionLevel.NoCompression).Open()) output.Write(Signature(bytes, signingKey));
        return manifest;
    }

    /// <summary>The signature entry's content: the HMAC of the manifest's bytes, lower-case hex.</summary>
    public static byte[] Signature(byte[] manifest, byte[] key) =>
        System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(key, manifest)));

    /// <summary>Signs an archive's manifest afresh with <paramref name="key"/> (an admin accepted a foreign backup).</summary>
    public static void Resign(string zipPath, byte[] key)
    {
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Update);
        byte[] manifest;
        using (var input = zip.GetEntry(ManifestEntry)!.Open())
        using (var copy = new MemoryStream())
        {
            input.CopyTo(copy);
            manifest = copy.ToArray();
        }
        zip.GetEntry(SignatureEntry)?.Delete();
        using var output = zip.CreateEntry(SignatureEntry, CompressionLevel.NoCompression).Open();
        output.Write(Signature(manifest, key));
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
    /// Checks the archive against its manifest and its signature against <paramref name="signingKey"/>; with
    /// <paramref name="extractDatabaseTo"/> also writes the database entry there (checked while it is written). Problems
    /// are sentences for people; none means the archive is what it claims (whoever made it: see the origin).
    /// </summary>
    public static BackupCheck Check(string zipPath, long maxUncompressedBytes, byte[] signingKey, string? extractDatabaseTo = null)
    {
        var problems = new List<string>();
        try
        {
            using var zip = ZipFile.OpenRead(zipPath);
            var names = new HashSet<string>(StringComparer.Ordinal);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                if (!IsDatabaseEntry(entry.FullName) && entry.FullName is not (ManifestEntry or SignatureEntry) && !KeyEntry().IsMatch(entry.FullName))
                    problems.Add($"Unexpected entry '{Printable(entry.FullName)}'.");
                else if (!names.Add(entry.FullName))
                    problems.Add($"The entry '{entry.FullName}' appears twice.");
                else if (!IsRegularFile(entry))
                    problems.Add($"The entry '{entry.FullName}' is a symbolic link or a special file, not a regular file.");
                total += entry.Length;
            }
            if (total > maxUncompressedBytes) problems.Add($"The files add up to {total} bytes uncompressed, over the limit of {maxUncompressedBytes}.");
            if (problems.Count > 0) return new(null, problems, BackupOrigins.Unsigned);

            if (zip.GetEntry(ManifestEntry) is not { } manifestEntry) return new(null, ["manifest.json is missing."], BackupOrigins.Unsigned);
            var (manifest, origin) = ParseManifest(manifestEntry, zip.GetEntry(SignatureEntry), signingKey, problems);
            if (manifest is null) return new(null, problems, origin);

            var listed = manifest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
            foreach (var name in names.Where(n => n is not (ManifestEntry or SignatureEntry) && !listed.ContainsKey(n))) problems.Add($"'{name}' is not in the manifest.");
            foreach (var name in listed.Keys.Where(n => !names.Contains(n))) problems.Add($"'{Printable(name)}' is in the manifest but not in the archive.");
            var databases = listed.Keys.Count(IsDatabaseEntry);
            if (databases == 0) problems.Add("The manifest lists no sanctum.db.");
            else if (databases > 1) problems.Add("The manifest lists both sanctum.db and sanctum.pgdump.");
            if (problems.Count > 0) return new(manifest, problems, origin);

            foreach (var file in manifest.Files)
            {
                var entry = zip.GetEntry(file.Name)!;
                if (entry.Length != file.Size) { problems.Add($"{file.Name}: {entry.Length} bytes, the manifest says {file.Size}."); continue; }
                if (KeyEntry().IsMatch(file.Name) && file.Size > MaxKeyBytes) { problems.Add($"{file.Name} is larger than a key file can be."); continue; }
                using var input = entry.Open();
                var isKey = KeyEntry().IsMatch(file.Name);
                using var output = IsDatabaseEntry(file.Name) && extractDatabaseTo is not null
                    ? Infrastructure.OwnerOnlyFile.Open(extractDatabaseTo, FileMode.Create)
                    : isKey ? new MemoryStream() : Stream.Null;
                var (size, sha) = CopyHashed(input, output, file.Size);
                if (size != file.Size) problems.Add($"{file.Name}: {size} bytes, the manifest says {file.Size}.");
                else if (!string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase)) problems.Add($"{file.Name}: the SHA-256 does not match the manifest.");
                else if (isKey && KeyXmlProblem(file.Name, ((MemoryStream)output).ToArray()) is { } bad) problems.Add(bad);
            }
            return new(manifest, problems, origin);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            problems.Add($"The file is not a readable zip archive ({e.Message}).");
            return new(null, problems, BackupOrigins.Unsigned);
        }
    }

    // The upper 16 bits of a zip entry's external attributes are its Unix mode when the archiver was Unix: a file
    // type other than a regular file (symlink, device, fifo, directory) has no place in a backup.
    private static bool IsRegularFile(ZipArchiveEntry entry)
    {
        var type = (entry.ExternalAttributes >> 16) & 0xF000;
        return type is 0 or 0x8000;
    }

    /// <summary>
    /// Why a key file is not a Data Protection key (null when it is one): well-formed XML without a DTD, a
    /// <c>key</c> root of version 1 whose id is a GUID that its file name repeats, its three dates and a descriptor.
    /// A junk file in the ring would make every secret unreadable after the next start.
    /// </summary>
    public static string? KeyXmlProblem(string entryName, byte[] content)
    {
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(content),
                new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxKeyBytes });
            var root = System.Xml.Linq.XElement.Load(reader);
            var id = (string?)root.Attribute("id");
            if (root.Name.LocalName != "key" || (string?)root.Attribute("version") != "1" || !Guid.TryParse(id, out var guid))
                return $"{entryName} is not a Data Protection key (a <key id=\"…\" version=\"1\"> element).";
            if (entryName != $"keys/key-{guid:D}.xml")
                return $"{entryName} does not carry the key it names (key-{guid:D}.xml).";
            foreach (var date in new[] { "creationDate", "activationDate", "expirationDate" })
                if (!DateTimeOffset.TryParse((string?)root.Element(date), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
                    return $"{entryName} lacks a valid {date}.";
            if (root.Element("descriptor")?.Attribute("deserializerType") is null)
                return $"{entryName} lacks the key's descriptor.";
            return null;
        }
        catch (XmlException e)
        {
            return $"{entryName} is not well-formed XML ({e.Message}).";
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

    private static BackupManifest? ParseManifest(ZipArchiveEntry entry, List<string> problems) =>
        ParseManifest(entry, null, null, problems).Manifest;

    private static (BackupManifest? Manifest, string Origin) ParseManifest(ZipArchiveEntry entry, ZipArchiveEntry? signature, byte[]? key, List<string> problems)
    {
        if (entry.Length > MaxManifestBytes) { problems.Add("manifest.json is too large."); return (null, BackupOrigins.Unsigned); }
        byte[] bytes;
        using (var stream = entry.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        var origin = BackupOrigins.Unsigned;
        if (signature is not null && key is not null)
        {
            var given = new byte[Math.Min(signature.Length, 128)];
            using (var stream = signature.Open()) stream.ReadAtLeast(given, given.Length, throwOnEndOfStream: false);
            origin = CryptographicOperations.FixedTimeEquals(given, Signature(bytes, key)) ? BackupOrigins.Signed : BackupOrigins.Foreign;
        }
        try
        {
            var manifest = JsonSerializer.Deserialize<BackupManifest>(bytes, Json);
            if (manifest is null || manifest.Files is null || manifest.Kind is null || manifest.CreatedAt is null)
                problems.Add("manifest.json lacks required fields.");
            else if (manifest.Format != BackupManifest.CurrentFormat)
                problems.Add($"manifest.json has format {manifest.Format}; this build reads format {BackupManifest.CurrentFormat}.");
            else if (!BackupKinds.All.Contains(manifest.Kind))
                problems.Add($"manifest.json has an unknown kind '{Printable(manifest.Kind)}'.");
            else if (manifest.Files.Any(f => f?.Name is null || f.Sha256 is null))
                problems.Add("manifest.json lists a file without a name or checksum.");
            else
                return (manifest, origin);
        }
        catch (JsonException e)
        {
            problems.Add($"manifest.json is not valid JSON ({e.Message}).");
        }
        return (null, origin);
    }

    private static string Printable(string text) =>
        new(text.Take(100).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

public static class BackupKinds
{
    public const string Manual = "manual", Scheduled = "scheduled", PreRestore = "pre-restore";
    public static readonly string[] All = [Manual, Scheduled, PreRestore];
}
