using Dapper;
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
/// match <see cref="IsName"/> is treated as unknown. What differs per engine is in <see cref="SqliteSnapshot"/> and
/// <see cref="PostgresDump"/>; a backup restores only on the engine it was taken from.
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

    private PostgresDump Postgres => new(database, options.Value.PostgresBinDirectory);

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
        var work = WorkDirectory();
        try
        {
            var copy = Path.Combine(work, "database");
            long schema;
            if (database.IsSqlite)
            {
                SqliteSnapshot.Take(database, copy);
                using var connection = SqliteSnapshot.OpenCopy(copy);
                schema = SqliteSnapshot.SchemaVersion(connection);
            }
            else
            {
                // Migrations run only at start, so the version read just before the dump is the dump's.
                using (var live = database.Open()) schema = SchemaVersions.Of(live, database.Dialect);
                Postgres.Take(copy);
            }
            var now = clock.GetUtcNow();
            var partial = Path.Combine(work, "backup.zip");
            var manifest = database.IsSqlite
                ? BackupArchive.Write(partial, BackupArchive.DatabaseEntry, copy, SecretsSetup.KeyRingDirectory(database.DataDirectory),
                    Timestamp.From(now), AppVersion, schema, kind)
                : BackupArchive.Write(partial, BackupArchive.PostgresEntry, copy, keysDirectory: null, Timestamp.From(now), AppVersion, schema, kind);
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
            await using (var file = Infrastructure.OwnerOnlyFile.Open(upload, FileMode.CreateNew))
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
            var (manifest, _) = CheckFully(upload, work);
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
            var (manifest, _) = CheckFully(path, work);
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
    /// Replaces the live data with a backup: checks it completely, then (alone in this process: see
    /// <see cref="MaintenanceGate"/>) takes a pre-restore backup, puts its database in place, keeps the key ring's keys
    /// (adding the backup's) and migrates it up. Throws <see cref="BackupInvalidException"/> with nothing changed when the
    /// backup fails a check, and <see cref="BackupToolException"/> when pg_restore fails (its transaction is rolled back).
    /// </summary>
    public async Task<RestoreReport> RestoreAsync(string zipPath, CancellationToken cancellationToken = default)
    {
        var work = WorkDirectory();
        try
        {
            var (manifest, copy) = CheckFully(zipPath, work);

            // The pre-restore backup is taken alone too, so no write of this process can fall between it and the swap.
            var (preRestore, before, schema, after) = await gate.RunExclusiveAsync(
                () => database.IsSqlite ? RestoreSqlite(zipPath, copy) : RestorePostgres(copy, manifest.SchemaVersion), cancellationToken);

            var tables = before.Keys.Union(after.Keys).Order(StringComparer.Ordinal)
                .Select(t => new TableChange(t, before.TryGetValue(t, out var b) ? b : null, after.TryGetValue(t, out var a) ? a : null)).ToList();
            return new RestoreReport(Path.GetFileName(zipPath), preRestore.Name, schema, tables);
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    private (BackupInfo, IReadOnlyDictionary<string, long>, long, IReadOnlyDictionary<string, long>) RestoreSqlite(string zipPath, string copy)
    {
        IReadOnlyDictionary<string, long> counts;
        using (var live = database.OpenSqlite()) counts = SqliteSnapshot.RowCounts(live);
        var safety = Create(BackupKinds.PreRestore);
        SqliteSnapshot.ReplaceLive(database, copy);
        RestoreKeys(zipPath);
        services.MigrateDatabase();
        using var restored = database.OpenSqlite();
        return (safety, counts, SqliteSnapshot.SchemaVersion(restored), SqliteSnapshot.RowCounts(restored));
    }

    private const string KeysSql = "SELECT friendly_name AS FriendlyName, xml AS Xml FROM data_protection_keys";

    private (BackupInfo, IReadOnlyDictionary<string, long>, long, IReadOnlyDictionary<string, long>) RestorePostgres(string dump, long backupSchema)
    {
        IReadOnlyDictionary<string, long> counts;
        List<StoredKey> keys;
        using (var live = database.Open())
        {
            // pg_restore replaces the tables the dump has and leaves others: a newer schema's extra tables would stay.
            var liveSchema = SchemaVersions.Of(live, database.Dialect);
            if (backupSchema < liveSchema)
                throw new BackupInvalidException([$"The backup's schema version {backupSchema} is older than this database's ({liveSchema}): on PostgreSQL a backup restores into the same schema version."]);
            counts = PostgresDump.RowCounts(live);
            keys = live.Query<StoredKey>(KeysSql).ToList();
        }
        var safety = Create(BackupKinds.PreRestore);
        Postgres.Restore(dump);

        int added;
        using (var restored = database.Open())
        {
            // The ring keeps the keys it had (secrets written since the backup need them) and gains the backup's.
            var names = restored.Query<StoredKey>(KeysSql).Select(k => k.FriendlyName).ToHashSet(StringComparer.Ordinal);
            added = names.Count(n => keys.All(k => k.FriendlyName != n));
            restored.Execute("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@FriendlyName, @Xml) ON CONFLICT (friendly_name) DO NOTHING",
                keys.Where(k => !names.Contains(k.FriendlyName)));
        }
        if (added > 0) ReloadKeyRing(added);
        services.MigrateDatabase();
        using var after = database.Open();
        return (safety, counts, SchemaVersions.Of(after, database.Dialect), PostgresDump.RowCounts(after));
    }

    private sealed record StoredKey(string FriendlyName, string Xml);

    /// <summary>Archive checks, then the extracted database's integrity, engine and schema version; returns the manifest and the extracted database.</summary>
    private (BackupManifest Manifest, string Database) CheckFully(string zipPath, string work)
    {
        var extracted = Path.Combine(work, "database");
        var (manifest, problems) = BackupArchive.Check(zipPath, Limits.MaxUncompressedBytes, extracted);
        if (problems.Count > 0 || manifest is null) throw new BackupInvalidException(problems.Count > 0 ? problems : ["The backup has no manifest."]);
        var entry = BackupArchive.DatabaseEntryOf(manifest);
        if (database.IsSqlite && entry == BackupArchive.PostgresEntry)
            throw new BackupInvalidException(["The backup holds a PostgreSQL dump (sanctum.pgdump); this server uses SQLite: restore it on a server that uses PostgreSQL."]);
        if (!database.IsSqlite && entry == BackupArchive.DatabaseEntry)
            throw new BackupInvalidException(["The backup holds a SQLite database (sanctum.db); this server uses PostgreSQL: restore it on a server that uses SQLite."]);
        long schema;
        if (database.IsSqlite)
        {
            var integrity = SqliteSnapshot.IntegrityProblems(extracted);
            if (integrity.Count > 0) throw new BackupInvalidException(["sanctum.db fails PRAGMA integrity_check: " + string.Join("; ", integrity.Take(5))]);
            using var connection = SqliteSnapshot.OpenCopy(extracted);
            schema = SqliteSnapshot.SchemaVersion(connection);
        }
        else
        {
            if (Postgres.Problems(extracted) is { Count: > 0 } unreadable) throw new BackupInvalidException(unreadable);
            schema = Postgres.SchemaVersion(extracted);
        }
        if (schema != manifest.SchemaVersion)
            throw new BackupInvalidException([$"{entry} is at schema version {schema}, the manifest says {manifest.SchemaVersion}."]);
        if (schema > BuildSchemaVersion)
            throw new BackupInvalidException([$"The backup's schema version {schema} is newer than this build's ({BuildSchemaVersion}): upgrade Sanctum first."]);
        if (schema < 1) throw new BackupInvalidException([$"{entry} holds no Sanctum schema."]);
        return (manifest, extracted);
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
        if (added > 0) ReloadKeyRing(added);
    }

    private void ReloadKeyRing(int added)
    {
        // The key ring is cached in memory; a new key is the public way to make it re-read its store.
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
