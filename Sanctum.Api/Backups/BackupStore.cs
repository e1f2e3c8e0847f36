using Dapper;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Backups;

/// <summary>One backup as the API lists it.</summary>
public sealed record BackupInfo(
    [property: MaxLength(BackupStore.MaxName), RegularExpression(BackupStore.NamePattern)] string Name, long Size, string CreatedAt, long SchemaVersion,
    [property: OneOf(typeof(BackupKinds))] string Kind, [property: MaxLength(64)] string AppVersion);

/// <summary>What re-checking a stored backup found: <c>ok</c> with no problems, or the problems.</summary>
public sealed record BackupVerification(
    [property: MaxLength(BackupStore.MaxName)] string Name, bool Ok, long? SchemaVersion, IReadOnlyList<string> Problems)
{
    /// <summary>signed (by this installation's key), unsigned, or foreign (signed by another key, or edited since).</summary>
    [OneOf(typeof(BackupOrigins))]
    public string Origin { get; init; } = BackupOrigins.Signed;
}

/// <summary>
/// One table before and after a restore: its rows, and how many rows the restore added, removed and changed (by
/// primary key and content).
/// </summary>
public sealed record TableChange([property: MaxLength(128)] string Table, long? Before, long? After)
{
    public long Added { get; init; }
    public long Removed { get; init; }
    public long Changed { get; init; }
    /// <summary>Whether the table's content is not what it was (any row added, removed or changed).</summary>
    public bool ContentChanged => Added + Removed + Changed > 0 || Before is null != After is null;
}

/// <summary>What a restore did.</summary>
public sealed record RestoreReport(
    [property: MaxLength(BackupStore.MaxName)] string Restored, [property: MaxLength(BackupStore.MaxName)] string PreRestoreBackup, long SchemaVersion,
    IReadOnlyList<TableChange> Tables)
{
    /// <summary>Always false: a restore ends every session, the restoring admin's too; everyone signs in again.</summary>
    public bool SessionKept { get; init; }
    /// <summary>The sessions the restore ended.</summary>
    public int SessionsEnded { get; init; }
    /// <summary>Access tokens in the backup that were revoked since it was taken, and stay revoked.</summary>
    public int TokensKeptRevoked { get; init; }
    /// <summary>signed, unsigned or foreign: see <see cref="BackupOrigins"/> (the last two only when the admin accepted it).</summary>
    [OneOf(typeof(BackupOrigins))]
    public string Origin { get; init; } = BackupOrigins.Signed;
}

/// <summary>Who restores and whether they accept a backup this installation did not sign.</summary>
public sealed record RestoreRequest(bool AcceptForeign = false, HttpContext? Http = null, string? Actor = null);

/// <summary>A backup that fails its checks; nothing was changed.</summary>
public sealed class BackupInvalidException(IReadOnlyList<string> problems, string origin = BackupOrigins.Unsigned)
    : Exception("The backup is not valid: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
    public string Origin { get; } = origin;
}

/// <summary>
/// The backups under <c>&lt;DataDirectory&gt;/backups</c> (or <c>Sanctum:Backups:Directory</c>): creating, listing,
/// checking, importing and restoring them. Names are made here and nothing else is ever opened: a name that does not
/// match <see cref="IsName"/> is treated as unknown. What differs per engine is in <see cref="SqliteSnapshot"/> and
/// <see cref="PostgresDump"/>; a backup restores only on the engine it was taken from.
/// </summary>
public sealed partial class BackupStore(Database database, IOptions<SanctumOptions> options, TimeProvider clock,
    MaintenanceGate gate, IServiceProvider services, RecordKeys keys, AuditLog audit, ILogger<BackupStore> logger)
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
                    Timestamp.From(now), AppVersion, schema, kind, keys.BackupKey)
                : BackupArchive.Write(partial, BackupArchive.PostgresEntry, copy, keysDirectory: null, Timestamp.From(now), AppVersion, schema, kind, keys.BackupKey);
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
    public async Task<BackupInfo> ImportAsync(Stream body, CancellationToken cancellationToken) => await ImportAsync(body, false, cancellationToken);

    /// <summary>
    /// As <see cref="ImportAsync(Stream, CancellationToken)"/>; with <paramref name="acceptForeign"/> an unsigned or
    /// foreign backup is accepted and signed afresh with this installation's key (the admin vouches for it).
    /// </summary>
    public async Task<BackupInfo> ImportAsync(Stream body, bool acceptForeign, CancellationToken cancellationToken)
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
            var (manifest, _, origin) = CheckFully(upload, work, acceptForeign);
            if (origin != BackupOrigins.Signed) BackupArchive.Resign(upload, keys.BackupKey);
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
            var (manifest, _, origin) = CheckFully(path, work, acceptForeign: false);
            return new BackupVerification(name, true, manifest.SchemaVersion, []) { Origin = origin };
        }
        catch (BackupInvalidException e)
        {
            return new BackupVerification(name, false, BackupArchive.ReadManifest(path)?.SchemaVersion, e.Problems) { Origin = e.Origin };
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    /// <summary>
    /// Replaces the live data with a backup: checks it completely, then (alone in this process: see
    /// <see cref="MaintenanceGate"/>) takes a pre-restore backup, puts its database in place, keeps the key ring's keys
    /// (adding the backup's) and migrates it up. The audit log is carried over whole (a restore never rewinds it), every
    /// session ends, access tokens revoked since the backup stay revoked, and the restore itself is audited with what it
    /// changed. Throws <see cref="BackupInvalidException"/> with nothing changed when the backup fails a check, and
    /// <see cref="BackupToolException"/> when pg_restore fails (its transaction is rolled back).
    /// </summary>
    public Task<RestoreReport> RestoreAsync(string zipPath, CancellationToken cancellationToken = default) =>
        RestoreAsync(zipPath, new RestoreRequest(), cancellationToken);

    public async Task<RestoreReport> RestoreAsync(string zipPath, RestoreRequest request, CancellationToken cancellationToken = default)
    {
        var work = WorkDirectory();
        try
        {
            var (manifest, copy, origin) = CheckFully(zipPath, work, request.AcceptForeign);
            await audit.FlushAsync(AuditVerifier.FlushWait, cancellationToken);
            // The pre-restore backup is taken alone too, so no write of this process can fall between it and the swap.
            var report = await gate.RunExclusiveAsync(() => ReplaceAsync(zipPath, copy, manifest.SchemaVersion, origin, request), cancellationToken);
            // On PostgreSQL the restore's own audit row is sealed into the chain by the writer: answer once it is there.
            await audit.FlushAsync(AuditVerifier.FlushWait, CancellationToken.None);
            return report;
        }
        finally
        {
            DeleteQuietly(work);
        }
    }

    private async Task<RestoreReport> ReplaceAsync(string zipPath, string copy, long backupSchema, string origin, RestoreRequest request)
    {
        // Events queued while requests drained belong to the log that is carried over.
        await audit.FlushAsync(AuditVerifier.FlushWait);
        TableContents before;
        RestoreCarryOver carried;
        List<StoredKey> ring = [];
        using (var live = database.Open())
        {
            if (!database.IsSqlite)
            {
                // pg_restore replaces the tables the dump has and leaves others: a newer schema's extra tables would stay.
                var liveSchema = SchemaVersions.Of(live, database.Dialect);
                if (backupSchema < liveSchema)
                    throw new BackupInvalidException([$"The backup's schema version {backupSchema} is older than this database's ({liveSchema}): on PostgreSQL a backup restores into the same schema version."]);
                if (SchemaCheck.PostgresProblems(Postgres.Schema(copy), Postgres.LiveSchema()) is { Count: > 0 } schemaProblems)
                    throw new BackupInvalidException(schemaProblems);
                ring = live.Query<StoredKey>(KeysSql).ToList();
            }
            before = TableContents.Read(live, database.IsSqlite);
            carried = RestoreCarryOver.Read(live);
        }
        var safety = Create(BackupKinds.PreRestore);
        if (database.IsSqlite)
        {
            SqliteSnapshot.ReplaceLive(database, copy);
            RestoreKeys(zipPath);
        }
        else
        {
            Postgres.Restore(copy);
            RestorePostgresKeys(ring);
        }
        services.MigrateDatabase();

        using var restored = database.Open();
        var (sessions, revoked) = carried.Apply(restored);
        var tables = TableContents.Compare(before, TableContents.Read(restored, database.IsSqlite));
        var report = new RestoreReport(Path.GetFileName(zipPath), safety.Name, SchemaVersions.Of(restored, database.Dialect), tables)
        {
            SessionsEnded = sessions, TokensKeptRevoked = revoked, Origin = origin,
        };
        await using (var tx = await restored.BeginTransactionAsync())
        {
            await audit.RecordAsync(new AuditEvent("backup.restored", "backup", report.Restored, new
            {
                pre_restore = report.PreRestoreBackup, schema_version = report.SchemaVersion, origin, sessions_ended = sessions,
                tokens_kept_revoked = revoked,
                changed = tables.Where(t => t.ContentChanged).ToDictionary(t => t.Table, t => new { before = t.Before, after = t.After, added = t.Added, removed = t.Removed, changed = t.Changed }),
            }) { Actor = request.Actor }, request.Http, restored, tx);
            await tx.CommitAsync();
        }
        audit.Committed(restored);
        return report;
    }

    private const string KeysSql = "SELECT friendly_name AS FriendlyName, xml AS Xml FROM data_protection_keys";

    /// <summary>The ring keeps the keys it had (secrets written since the backup need them) and gains the backup's.</summary>
    private void RestorePostgresKeys(List<StoredKey> keys)
    {
        int added;
        using (var restored = database.Open())
        {
            var names = restored.Query<StoredKey>(KeysSql).Select(k => k.FriendlyName).ToHashSet(StringComparer.Ordinal);
            added = names.Count(n => keys.All(k => k.FriendlyName != n));
            restored.Execute("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@FriendlyName, @Xml) ON CONFLICT (friendly_name) DO NOTHING",
                keys.Where(k => !names.Contains(k.FriendlyName)));
        }
        if (added > 0) ReloadKeyRing(added);
    }

    private sealed record StoredKey(string FriendlyName, string Xml);

    /// <summary>
    /// Archive checks, its origin, then the extracted database's integrity, engine, schema version and schema objects;
    /// returns the manifest, the extracted database and the origin. An unsigned or foreign backup passes only with
    /// <paramref name="acceptForeign"/>.
    /// </summary>
    private (BackupManifest Manifest, string Database, string Origin) CheckFully(string zipPath, string work, bool acceptForeign)
    {
        var extracted = Path.Combine(work, "database");
        var (manifest, problems, origin) = BackupArchive.Check(zipPath, Limits.MaxUncompressedBytes, keys.BackupKey, extracted);
        if (problems.Count > 0 || manifest is null) throw new BackupInvalidException(problems.Count > 0 ? problems : ["The backup has no manifest."], origin);
        if (origin != BackupOrigins.Signed && !acceptForeign)
            throw new BackupInvalidException([origin == BackupOrigins.Unsigned
                ? "The backup is not signed (made by an older build, or its manifest.sig was removed). If you trust it, accept it explicitly (accept_foreign=true, --accept-foreign)."
                : "The backup was not signed by this installation (made by another one, or its manifest edited since). If you trust it, accept it explicitly (accept_foreign=true, --accept-foreign)."], origin);
        var entry = BackupArchive.DatabaseEntryOf(manifest);
        if (database.IsSqlite && entry == BackupArchive.PostgresEntry)
            throw new BackupInvalidException(["The backup holds a PostgreSQL dump (sanctum.pgdump); this server uses SQLite: restore it on a server that uses PostgreSQL."], origin);
        if (!database.IsSqlite && entry == BackupArchive.DatabaseEntry)
            throw new BackupInvalidException(["The backup holds a SQLite database (sanctum.db); this server uses PostgreSQL: restore it on a server that uses SQLite."], origin);
        long schema;
        if (database.IsSqlite)
        {
            var integrity = SqliteSnapshot.IntegrityProblems(extracted);
            if (integrity.Count > 0) throw new BackupInvalidException(["sanctum.db fails PRAGMA integrity_check: " + string.Join("; ", integrity.Take(5))], origin);
            using var connection = SqliteSnapshot.OpenCopy(extracted);
            schema = SqliteSnapshot.SchemaVersion(connection);
            if (schema >= 1 && schema <= BuildSchemaVersion && SchemaCheck.SqliteProblems(connection, schema) is { Count: > 0 } objects)
                throw new BackupInvalidException(objects, origin);
        }
        else
        {
            if (Postgres.Problems(extracted) is { Count: > 0 } unreadable) throw new BackupInvalidException(unreadable, origin);
            schema = Postgres.SchemaVersion(extracted);
        }
        if (schema != manifest.SchemaVersion)
            throw new BackupInvalidException([$"{entry} is at schema version {schema}, the manifest says {manifest.SchemaVersion}."], origin);
        if (schema > BuildSchemaVersion)
            throw new BackupInvalidException([$"The backup's schema version {schema} is newer than this build's ({BuildSchemaVersion}): upgrade Sanctum first."], origin);
        if (schema < 1) throw new BackupInvalidException([$"{entry} holds no Sanctum schema."], origin);
        return (manifest, extracted, origin);
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
