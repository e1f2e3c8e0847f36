using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Sanctum.Api.Config;
using Sanctum.Api.Data;
using System.ComponentModel.DataAnnotations;
using Sanctum.Api.OpenApi;

namespace Sanctum.Api.Backups;

/// <summary>One backup as the API lists it.</summary>
public sealed record BackupInfo(
    [property: MaxLength(BackupStore.MaxName), RegularExpression(BackupStore.NamePattern)] string Name, long Size, string CreatedAt, long SchemaVersion,
    [property: OneOf(typeof(BackupKinds))] string Kind, [property: MaxLength(64)] string AppVersion);

/// <summary>What re-checking a stored backup found: <c>ok</c> with no problems, or the problems.</summary>
public sealed record BackupVerification(
    [property: MaxLength(BackupStore.MaxName)] string Name, bool Ok, long? SchemaVersion, IReadOnlyList<string> Problems);

/// <summary>Rows in one table before and after a restore.</summary>
public sealed record TableChange([property: MaxLength(128)] string Table, long? Before, long? After);

/// <summary>What a restore did.</summary>
public sealed record RestoreReport(
    [property: MaxLength(BackupStore.MaxName)] string Restored, [property: MaxLength(BackupStore.MaxName)] string PreRestoreBackup, long SchemaVersion,
    IReadOnlyList<TableChange> Tables)
{
    /// <summary>False when the restoring admin's session is not in the restored data: they sign in again.</summary>
    public bool SessionKept { get; init; } = true;
}

/// <summary>A backup that fails its checks; nothing was changed.</summary>
public sealed class BackupInvalidException(IReadOnlyList<string> problems)
    : Exception("The backup is not valid: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// The backups under <c>&lt;DataDirectory&gt;/backups</c> (or <c>Sanctum:Backups:Directory</c>): creating, listing,
/// checking, importing and restoring them. Names are made here and nothing else is ever opened: a name that does not
/// match <see cref="IsName"/> is treated as unknown.
/// </summary>
public sealed partial class BackupStore(Database database, IOptions<SanctumOptions> options, TimeProvider clock,
    MaintenanceGate gate, IServiceProvider services, ILogger<BackupStore> logger)
{
    public string Directory { get; } = Path.GetFullPath(
        string.IsNullOrWhiteSpace(options.Value.Backups.Directory) ? Path.Combine(database.DataDirectory, "backups") : options.Value.Backups.Directory);

    private BackupOptions Limits => options.Value.Backups;

    /// <summary>The newest schema this build knows (the highest phase migration).</summary>
    public static readonly long BuildSchemaVersion = typeof(Sanctum.Migrations.Phase1MinimalSchema).Assembly.GetTypes()
        .Select(t => t.GetCustomAttribute<FluentMigrator.MigrationAttribute>()?.Version ?? 0).Max();

    public static readonly string AppVersion =
        typeof(BackupStore).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public const string NamePattern = @"^sanctum-\d{8}-\d{6}-(manual|scheduled|pre-restore)(-\d{1,4})?\.zip$";
    public const int MaxName = 64;

    [GeneratedRegex(NamePattern)]
    private static partial Regex NameRegex();

    public const string NotOnPostgres =
        "Backups through Sanctum copy its SQLite file; this server uses PostgreSQL: back it up with pg_dump (see README, Running on PostgreSQL).";

    public static bool IsName(string? name) => name is not null && NameRegex().IsMatch(name);

    /// <summary>The file of a stored backup, or null for an unknown or malformed name.</summary>
    public string? PathOf(string name)
    {
        if (!IsName(name)) return null;
        var path = Path.Combine(Directory, name);
        return File.Exists(path) ? path : null;
    }

    public IReadOnlyList<BackupInfo> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.EnumerateFiles(Directory, "sanctum-*.zip")
            .Select(Path.GetFileName).Where(IsName).Select(n => Info(n!)).OfType<BackupInfo>()
            .OrderByDescending(b => b.CreatedAt, StringComparer.Ordinal).ThenByDescending(b => b.Name, StringComparer.Ordinal).ToList();
    }

    public BackupInfo? Find(string name) => PathOf(name) is null ? null : Info(name);

    private BackupInfo? Info(string name)
    {
        var path = Path.Combine(Directory, name);
        var manifest = BackupArchive.ReadManifest(path);
        var size = new FileInfo(path).Length;
        return manifest is null
            ? new BackupInfo(name, size, "", 0, KindFromName(name), "unknown")
            : new BackupInfo(name, size, manifest.CreatedAt, manifest.SchemaVersion, manifest.Kind, manifest.AppVersion);
    }

    private static string KindFromName(string name) => NameRegex().Match(name).Groups[1].Value;

    /// <summary>Takes a backup of the live data now (online: writers carry on) and stores it.</summary>
    public BackupInfo Create(string kind) => Create(kind, destination: null);

    /// <summary>Takes a backup into <paramref name="destination"/> (a file path) or, when null, the backups folder.</summary>
    public BackupInfo Create(string kind, string? destination)
    {
        if (!database.IsSqlite) throw new InvalidOperationException(NotOnPostgres);
        var work = WorkDirectory();
        try
        {
            var copy = Path.Combine(work, BackupArchive.DatabaseEntry);
            SqliteSnapshot.Take(database, copy);
            long schema;
            using (var connection = SqliteSnapshot.OpenCopy(copy)) schema = SqliteSnapshot.SchemaVersion(connection);
            var now = clock.GetUtcNow();
            var partial = Path.Combine(work, "backup.zip");
            var manifest = BackupArchive.Write(partial, copy, SecretsSetup.KeyRingDirectory(database.DataDirectory),
                Timestamp.From(now), AppVersion, schema, kind);
            var target = destination is null ? NewPath(now, kind) : Path.GetFullPath(destination);
            File.Move(partial, target, overwrite: destination is not null);
            var name = Path.GetFileName(target);
            return new BackupInfo(name, new FileInfo(target).Length, manifest.CreatedAt, schema, kind, AppVersion);
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    public bool Delete(string name)
    {
        if (PathOf(name) is not { } path) return false;
        File.Delete(path);
        return true;
    }

    /// <summary>Deletes the oldest backups of <paramref name="kind"/> beyond the newest <paramref name="keep"/>; returns their names.</summary>
    public IReadOnlyList<string> Prune(string kind, int keep)
    {
        var old = List().Where(b => b.Kind == kind).Skip(keep).Select(b => b.Name).ToList();
        foreach (var name in old) Delete(name);
        return old;
    }

    /// <summary>
    /// Stores an uploaded backup after checking it completely (the same checks as a restore); throws
    /// <see cref="BackupInvalidException"/> and keeps nothing when it fails.
    /// </summary>
    public async Task<BackupInfo> ImportAsync(Stream body, CancellationToken cancellationToken)
    {
        var work = WorkDirectory();
        try
        {
            var upload = Path.Combine(work, "upload.zip");
            await using (var file = new FileStream(upload, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var buffer = new byte[81920];
                long total = 0;
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    total += read;
                    if (total > Limits.MaxUploadBytes) throw new BackupInvalidException([$"The upload is larger than {Limits.MaxUploadBytes} bytes."]);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            var manifest = CheckFully(upload, Path.Combine(work, BackupArchive.DatabaseEntry));
            var target = NewPath(clock.GetUtcNow(), manifest.Kind);
            File.Move(upload, target);
            return Info(Path.GetFileName(target))!;
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    /// <summary>Re-checks a stored backup (checksums, integrity, schema version) without restoring it.</summary>
    public BackupVerification Verify(string name)
    {
        var path = PathOf(name) ?? throw new FileNotFoundException(name);
        var work = WorkDirectory();
        try
        {
            var manifest = CheckFully(path, Path.Combine(work, BackupArchive.DatabaseEntry));
            return new BackupVerification(name, true, manifest.SchemaVersion, []);
        }
        catch (BackupInvalidException e)
        {
            return new BackupVerification(name, false, BackupArchive.ReadManifest(path)?.SchemaVersion, e.Problems);
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    /// <summary>
    /// Replaces the live data with a backup: checks it completely, then (alone: see <see cref="MaintenanceGate"/>)
    /// takes a pre-restore backup, copies its database in, adds its keys to the key ring and migrates it up.
    /// Throws <see cref="BackupInvalidException"/> with nothing changed when the backup fails a check.
    /// </summary>
    public async Task<RestoreReport> RestoreAsync(string zipPath, CancellationToken cancellationToken = default)
    {
        var work = WorkDirectory();
        try
        {
            var copy = Path.Combine(work, BackupArchive.DatabaseEntry);
            CheckFully(zipPath, copy);

            // The pre-restore backup is taken alone too, so no write can fall between it and the swap.
            var (preRestore, before, schema, after) = await gate.RunExclusiveAsync(() =>
            {
                var counts = LiveRowCounts();
                var safety = Create(BackupKinds.PreRestore);
                SqliteSnapshot.ReplaceLive(database, copy);
                RestoreKeys(zipPath);
                services.MigrateDatabase();
                using var live = database.OpenSqlite();
                return (safety, counts, SqliteSnapshot.SchemaVersion(live), SqliteSnapshot.RowCounts(live));
            }, cancellationToken);

            var tables = before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
                .Select(t => new TableChange(t, before.TryGetValue(t, out var b) ? b : null, after.TryGetValue(t, out var a) ? a : null)).ToList();
            return new RestoreReport(Path.GetFileName(zipPath), preRestore.Name, schema, tables);
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    /// <summary>Archive checks, then the extracted database's integrity and schema version.</summary>
    private BackupManifest CheckFully(string zipPath, string extractTo)
    {
        var (manifest, problems) = BackupArchive.Check(zipPath, Limits.MaxUncompressedBytes, extractTo);
        if (problems.Count > 0 || manifest is null) throw new BackupInvalidException(problems.Count > 0 ? problems : ["The backup has no manifest."]);
        var integrity = SqliteSnapshot.IntegrityProblems(extractTo);
        if (integrity.Count > 0) throw new BackupInvalidException(["sanctum.db fails PRAGMA integrity_check: " + string.Join("; ", integrity.Take(5))]);
        long schema;
        using (var connection = SqliteSnapshot.OpenCopy(extractTo)) schema = SqliteSnapshot.SchemaVersion(connection);
        if (schema != manifest.SchemaVersion)
            throw new BackupInvalidException([$"sanctum.db is at schema version {schema}, the manifest says {manifest.SchemaVersion}."]);
        if (schema > BuildSchemaVersion)
            throw new BackupInvalidException([$"The backup's schema version {schema} is newer than this build's ({BuildSchemaVersion}): upgrade Sanctum first."]);
        if (schema < 1) throw new BackupInvalidException(["sanctum.db holds no Sanctum schema."]);
        return manifest;
    }

    private IReadOnlyDictionary<string, long> LiveRowCounts()
    {
        using var live = database.OpenSqlite();
        return SqliteSnapshot.RowCounts(live);
    }

    /// <summary>Adds the backup's keys the ring lacks (keeping the current ones), and reloads the ring when it changed.</summary>
    private void RestoreKeys(string zipPath)
    {
        var keys = SecretsSetup.KeyRingDirectory(database.DataDirectory);
        System.IO.Directory.CreateDirectory(keys);
        var added = 0;
        using (var zip = ZipFile.OpenRead(zipPath))
        {
            foreach (var entry in zip.Entries.Where(e => e.FullName.StartsWith("keys/", StringComparison.Ordinal)))
            {
                var target = Path.Combine(keys, Path.GetFileName(entry.FullName));
                if (File.Exists(target)) continue;
                entry.ExtractToFile(target);
                added++;
            }
        }
        if (added == 0) return;
        // The key ring is cached in memory; a new key is the public way to make it re-read the folder.
        services.GetRequiredService<IKeyManager>().CreateNewKey(clock.GetUtcNow(), clock.GetUtcNow().AddDays(90));
        logger.LogInformation("Restore added {Count} key(s) to the Data Protection key ring.", added);
    }

    private string NewPath(DateTimeOffset now, string kind)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var stem = $"sanctum-{now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{kind}";
        for (var n = 1; ; n++)
        {
            var path = Path.Combine(Directory, n == 1 ? stem + ".zip" : $"{stem}-{n}.zip");
            if (!File.Exists(path)) return path;
        }
    }

    /// <summary>A scratch folder inside the backups folder (same file system, so finished files are moved, not copied).</summary>
    private string WorkDirectory()
    {
        var path = Path.Combine(Directory, ".work-" + Guid.NewGuid().ToString("N"));
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(path);
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    private static void DeleteQuietly(string directory)
    {
        try { System.IO.Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
