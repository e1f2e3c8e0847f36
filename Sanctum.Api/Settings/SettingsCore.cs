using System.Data;
using System.Data.Common;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Sanctum.Api.Events;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>
/// The one implementation of settings behind the four stores: the key rule, one limit per field, type and catalogue
/// checks, secrets (encrypt, mask, reveal, mask round-trip, never back to plain text, unreadable ciphertext), the
/// history of every change with rollback, and optimistic concurrency (ETag / If-Match, 412 on a stale write).
/// </summary>
public sealed partial class SettingsCore(Secrets secrets, AuditLog audit, TimeProvider clock, ILogger<SettingsCore> logger, IEventPublisher events, RecordKeys keys)
{
    /// <summary>What a secret whose ciphertext can no longer be decrypted shows instead of the mask.</summary>
    public const string Unreadable = "unreadable";

    /// <summary>What a secret's value reads in the history.</summary>
    public const string Changed = "changed";

    /// <summary>The chat bridge's bearer keys: their <see cref="Digest"/> is kept beside the ciphertext so a poll never decrypts.</summary>
    public static readonly string[] BearerKeys = ["chat_api_key", "chat_admin_key"];

    public const string SystemActor = "system";

    private readonly SettingPutQueue _puts = new();

    // ---- reads ----

    public Task<StoredSetting?> FindAsync(DbConnection db, SettingAddress at, DbTransaction? tx = null, CancellationToken cancellationToken = default) =>
        db.QuerySingleOrDefaultAsync<StoredSetting?>(new CommandDefinition(at.Store.FindSql, Args(at), tx, cancellationToken: cancellationToken));

    /// <summary>Rows of a store: <paramref name="tail"/> is the WHERE and ORDER BY over the table's own columns (alias t).</summary>
    public async Task<List<StoredSetting>> QueryAsync(DbConnection db, SettingStore store, string tail, object? args = null, DbTransaction? tx = null) =>
        (await db.QueryAsync<StoredSetting>($"{store.Select} {tail}", args, tx)).AsList();

    /// <summary>One setting with its ETag; reveal is for admins only and is recorded.</summary>
    public async Task<SettingOutcome> GetAsync(DbConnection db, SettingAddress at, HttpContext http, bool reveal)
    {
        if (at.Store.KeyProblem(at.Key) is { } problem) return SettingOutcome.Invalid(at.Store.KeyField, problem);
        if (reveal && !http.User.IsAdmin()) return SettingOutcome.RevealForbidden;
        if (await FindAsync(db, at, cancellationToken: http.RequestAborted) is not { } row) return SettingOutcome.NotFound(at.Store.Describe(at));
        http.Response.Headers.ETag = row.ETag;
        if (reveal && row.IsSecret)
            audit.Record(new AuditEvent("secret.revealed", at.Store.Name, Target(at), new { key = at.Key }), http);
        return new SettingOutcome { Status = StatusCodes.Status200OK, Setting = row };
    }

    /// <summary>Records that an admin listed a store with its secrets revealed (names only).</summary>
    public void RecordReveal(SettingStore store, IEnumerable<StoredSetting> rows, HttpContext http)
    {
        var keys = rows.Where(r => r.IsSecret).Select(r => r.ScopeId is null ? r.Key : $"{r.Scope}/{r.ScopeId}/{r.Key}").ToList();
        if (keys.Count > 0) audit.Record(new AuditEvent("secret.revealed", store.Name, null, new { keys }), http);
    }

    /// <summary>
    /// The value as a response shows it: in its type (numbers as numbers, booleans as true/false, json as JSON); a
    /// secret as the mask ("" when empty) unless revealed, or <see cref="Unreadable"/> when it cannot be decrypted.
    /// </summary>
    public JsonNode? Shown(StoredSetting row, bool reveal = false)
    {
        if (!row.IsSecret) return Typed(row.Type, row.Value);
        if (string.IsNullOrEmpty(row.Value)) return JsonValue.Create("");
        var plaintext = row.Value;
        if (row.IsEncrypted && (plaintext = secrets.Unprotect(row.Value)) is null)
        {
            LogUnreadable(logger, row.Scope, row.ScopeId ?? "", row.Key);
            return JsonValue.Create(Unreadable);
        }
        return reveal ? Typed(row.Type, plaintext) : JsonValue.Create(Secrets.Mask);
    }

    /// <summary>Stored text as JSON of its type (<see cref="ConfigValues.TryParse"/>); text that does not parse as its type stays a string.</summary>
    public static JsonNode? Typed(string type, string? text) =>
        text is null ? null : ConfigValues.TryParse(type, text, out var value) && value is not null ? value : JsonValue.Create(text);

    /// <summary>
    /// The stored text of a setting kept in plain text (what the chat bridge and the Letta client read: limits, URLs,
    /// switches); null when it is absent or encrypted. Parse it with <see cref="ConfigValues"/>.
    /// </summary>
    public static async Task<string?> PlainTextAsync(DbConnection db, SettingAddress at, DbTransaction? tx = null, CancellationToken cancellationToken = default) =>
        await db.QuerySingleOrDefaultAsync<(string? Value, bool IsEncrypted)?>(new CommandDefinition(at.Store.ValueSql, Args(at), tx, cancellationToken: cancellationToken))
            is { IsEncrypted: false } row ? row.Value : null;

    // ---- writes ----

    /// <summary>
    /// Creates (201) or replaces (200) a setting, its history entry and audit row in the same commit. PUTs of one setting
    /// that arrive together are written together (<see cref="SettingPutQueue"/>).
    /// </summary>
    public async Task<SettingOutcome> PutAsync(DbConnection db, SettingAddress at, SettingWrite body, HttpContext http)
    {
        var put = new SettingPutQueue.Put(at, body, http);
        var batch = await _puts.JoinAsync(put);
        var outcome = batch is null ? SettingPutQueue.Outcome(put) : await WriteBatchAsync(db, batch);
        if (!outcome.Succeeded) return outcome;
        Saved(at, outcome, http);
        http.Response.Headers.ETag = outcome.Setting!.ETag;
        return outcome;
    }

    /// <summary>
    /// The PUTs of one setting, in one transaction, each as if alone. Answers the others (after the flush) and returns
    /// the first's, the caller's own. The line is handed on at the commit (or here when nothing commits).
    /// </summary>
    private async Task<SettingOutcome> WriteBatchAsync(DbConnection db, SettingPutQueue.Batch batch)
    {
        var puts = batch.Puts;
        var at = puts[0].At;
        var outcomes = new SettingOutcome?[puts.Count];
        try
        {
            // Not the caller's RequestAborted: the others' writes must not fail because its client went away.
            using var turn = await TurnAsync(db, at, CancellationToken.None);
            var (tx, found) = await BeginAsync(db, at);
            await using var _ = tx;
            for (var i = 0; i < puts.Count; i++)
            {
                var put = puts[i];
                if (i > 0 && put.Http.RequestAborted.IsCancellationRequested) continue;
                var outcome = await ApplyAsync(db, tx, at, put.Body, put.Http, Actor(put.Http), found, commitWithAudit: puts.Count == 1);
                if (outcome.Succeeded) found = found with { Current = outcome.Setting };
                outcomes[i] = outcome;
            }
            if (outcomes.Any(o => o?.Succeeded == true)) await CommitAsync(tx, new Both(turn, batch));
        }
        catch (Exception e)
        {
            foreach (var put in puts.Skip(1)) put.Failed(e);
            throw;
        }
        finally
        {
            batch.Dispose();
        }
        for (var i = 1; i < puts.Count; i++)
        {
            if (outcomes[i] is { } outcome) puts[i].Answered(outcome);
            else puts[i].Failed(new OperationCanceledException(puts[i].Http.RequestAborted));
        }
        return outcomes[0]!;
    }

    private sealed class Both(IDisposable? first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first?.Dispose();
            second.Dispose();
        }
    }

    /// <summary>
    /// The turn of one setting's writers in this process (<see cref="SettingWriteGate"/>), except where the database
    /// queues them: on PostgreSQL a setting without an owner is written under its advisory lock alone, so a delete or
    /// rollback waits for that lock inside the server, and runs as soon as the previous write commits (PUTs line up in
    /// <see cref="SettingPutQueue"/> first).
    /// </summary>
    private static async Task<IDisposable?> TurnAsync(DbConnection db, SettingAddress at, CancellationToken cancellationToken) =>
        at.ScopeId is null && Data.SqlDialect.Of(db).Engine == Data.DatabaseEngine.Postgres ? null : await SettingWriteGate.EnterAsync(at, cancellationToken);

    /// <summary>What a write's transaction reads first: the setting (null when absent) and whether its owner exists.</summary>
    private sealed record Found(StoredSetting? Current, bool OwnerExists);

    /// <summary>
    /// The transaction of one setting's write, begun by reading the setting (and its owner's existence) under its lock
    /// (<see cref="ReadLockedAsync"/>), in one round trip. On PostgreSQL a setting without an owner (system settings,
    /// environment variables) is written READ COMMITTED under its advisory lock: the write reads nothing but that
    /// setting's row and history, which the lock keeps to one writer at a time across instances, so it needs no
    /// serializable snapshot, and writes of different keys no longer fail each other's serializable check through the
    /// index pages their history shares (32 writers on 17 keys ran out of SerializationRetry's 15 s). A setting with an
    /// owner stays serializable: its owner's existence is read too (agent, tool). Its first statement also asks for the
    /// asynchronous commit that <see cref="CommitAsync"/> makes durable.
    /// </summary>
    private static async Task<(DbTransaction Tx, Found Found)> BeginAsync(DbConnection db, SettingAddress at)
    {
        if (db.State != ConnectionState.Open) await db.OpenAsync();
        var tx = Data.SqlDialect.Of(db).Engine == Data.DatabaseEngine.Sqlite ? await db.BeginTransactionAsync()
            : await db.BeginTransactionAsync(at.ScopeId is null ? IsolationLevel.ReadCommitted : IsolationLevel.Unspecified);
        try
        {
            return (tx, await ReadLockedAsync(db, tx, at, asyncCommit: true));
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Takes the setting's lock, on PostgreSQL its advisory transaction lock (every writer of a setting, these routes and
    /// <see cref="ApplyAsync"/> in a caller's transaction, holds it until its commit, so none reads a version another is
    /// about to replace; taking it twice in one transaction is harmless), then reads whether its owner exists and the
    /// setting: one command of separate statements, so each read runs after the lock is granted.
    /// </summary>
    /// <param name="asyncCommit">The transaction is committed through <see cref="DurableCommit"/>, which then waits for the flush.</param>
    private static async Task<Found> ReadLockedAsync(DbConnection db, DbTransaction tx, SettingAddress at, bool asyncCommit)
    {
        var postgres = Data.SqlDialect.Of(db).Engine == Data.DatabaseEngine.Postgres;
        var args = new DynamicParameters(Args(at));
        var sql = new StringBuilder();
        if (postgres)
        {
            args.AddDynamicParams(LockArgs(at));
            sql.Append(LockSql).Append(asyncCommit ? $", {DurableCommit.AsyncCommitCall}" : "").Append(";\n");
        }
        if (at.ScopeId is not null)
        {
            args.Add("ownerId", ConfigurationScopes.OwnerId(at.Scope, at.ScopeId));
            sql.Append(ConfigurationScopes.ExistsSql(at.Scope, "@ownerId")).Append(";\n");
        }
        sql.Append(at.Store.FindSql);
        await using var results = await db.QueryMultipleAsync(sql.ToString(), args, tx);
        if (postgres) await results.ReadAsync();
        var ownerExists = at.ScopeId is null || await results.ReadSingleAsync<bool>();
        return new Found(await results.ReadSingleOrDefaultAsync<StoredSetting>(), ownerExists);
    }

    private const string LockSql = "SELECT pg_advisory_xact_lock(@lockSpace, @lockKey)";

    // Two 32-bit keys: a space of its own ("SETT") and the first four bytes of the address's SHA-256 (stable across instances).
    private static object LockArgs(SettingAddress at)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{at.Store.Name}\n{at.Scope}\n{at.ScopeId}\n{at.Key}"));
        return new { lockSpace = 0x53455454, lockKey = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(digest) };
    }

    /// <summary>
    /// Commits a write, whose audit row <see cref="SaveAsync"/> or <see cref="RemoveAsync"/> wrote in the same transaction:
    /// acknowledged means audited. The setting's turn is handed on at the commit, before the wait for the disk
    /// (<see cref="DurableCommit"/>).
    /// </summary>
    private async Task CommitAsync(DbTransaction tx, IDisposable? turn)
    {
        var db = tx.Connection!;
        await DurableCommit.CommitAsync(tx, turn, asyncCommitAsked: true);
        audit.Committed(db);
    }

    /// <summary>
    /// The write itself inside the caller's transaction (the chat bridge changes two settings in one): checks, then
    /// the row, its history entry and, for a bearer key, its digest. The caller commits.
    /// </summary>
    public Task<SettingOutcome> ApplyAsync(DbConnection db, DbTransaction tx, SettingAddress at, SettingWrite body, HttpContext? http, string actor) =>
        ApplyAsync(db, tx, at, body, http, actor, found: null, commitWithAudit: false);

    /// <param name="found">Read by <see cref="BeginAsync"/> under the setting's lock; null: read here (after taking the lock).
    /// Given, the write records its audit event in the transaction.</param>
    /// <param name="commitWithAudit">The audit row is the transaction's last write: on PostgreSQL its command commits.</param>
    private async Task<SettingOutcome> ApplyAsync(DbConnection db, DbTransaction tx, SettingAddress at, SettingWrite body, HttpContext? http, string actor, Found? found,
        bool commitWithAudit)
    {
        var store = at.Store;
        var spec = store.Typed ? SettingCatalogue.Find(at.Key) : null;
        var secretName = ConfigKeys.IsSecretName(at.Key) || spec?.Secret == true;
        var errors = new Errors();
        if (store.KeyProblem(at.Key) is { } keyProblem) errors.Add(store.KeyField, keyProblem);
        if (store.Typed) errors.OneOf("type", body.Type, ConfigValues.Types);
        else if (body.Type is not null and not "string") errors.Add("type", "Environment variables are text: the type is string.");
        if (spec is not null && body.Type is not null && body.Type != spec.Type)
            errors.Add("type", $"'{at.Key}' is a known {spec.Type} setting (GET /api/config/schema).");
        if (body.Category is not null && store.CategoryColumn is null) errors.Add("category", "Only system settings have a category.");
        else if (body.Category is not null && !ConfigKeys.IsCategory(body.Category)) errors.Add("category", "Must be 1 to 50 letters, digits, '_' or '-'.");
        if (body.Description is not null && store.DescriptionColumn is null) errors.Add("description", "Agent settings keep no description.");
        else errors.Text("description", body.Description, ConfigKeys.MaxDescription);
        if (secretName && body.IsEncrypted == false)
            errors.Add("is_encrypted", $"'{at.Key}' names a secret ({string.Join(", ", ConfigKeys.SecretSuffixes.Select(s => "*" + s))}), which is always stored encrypted.");
        if (errors.Any) return SettingOutcome.Invalid(errors);

        var recordsAudit = found is not null;
        found ??= await ReadLockedAsync(db, tx, at, asyncCommit: false);
        if (!found.OwnerExists) return SettingOutcome.NotFound(ConfigurationScopes.Describe(at.Scope, at.ScopeId!));
        var current = found.Current;
        if (Stale(http, current) is { } stale) return stale;
        if (current is { IsEncrypted: true } && body.IsEncrypted == false)
            return SettingOutcome.Invalid("is_encrypted", "This value is a secret and stays encrypted; delete it and create it again to store it in plain text.");

        var plaintext = ConfigValues.ToText(body.Value);
        // A form that shows the mask and saves it unchanged keeps the secret instead of storing the mask.
        if (plaintext == Secrets.Mask && current is { IsSecret: true } && !string.IsNullOrEmpty(current.Value))
        {
            plaintext = current.IsEncrypted ? secrets.Unprotect(current.Value) : current.Value;
            if (plaintext is null)
            {
                LogUnreadable(logger, at.Scope, at.ScopeId ?? "", at.Key);
                return SettingOutcome.Conflict($"The stored value of '{at.Key}' can no longer be decrypted (the Data Protection key that wrote it is gone), "
                    + "so sending the mask cannot keep it: send the value itself.");
            }
        }
        var type = !store.Typed ? "string" : spec?.Type ?? body.Type ?? current?.Type ?? Infer(body.Value);
        if (plaintext is null) return SettingOutcome.Invalid("value", ConfigValues.Check(type, null) ?? "A value is required (\"\" for empty text).");
        if ((ConfigValues.Check(type, plaintext) ?? (spec is null ? null : SettingCatalogue.Check(spec, plaintext))) is { } valueProblem)
            return SettingOutcome.Invalid("value", valueProblem);

        var encrypted = secretName || (body.IsEncrypted ?? current?.IsEncrypted ?? false);
        var stored = encrypted ? secrets.Protect(plaintext) : plaintext;
        var description = body.Description is null ? current?.Description : body.Description.Length == 0 ? null : body.Description;
        var category = body.Category ?? current?.Category ?? spec?.Category ?? "general";
        var saved = await SaveAsync(db, tx, at, current, "set", stored, type, encrypted, plaintext, description, category, http, actor,
            recordsAudit ? ChangedEvent(at, created: current is null, secret: StoredSetting.Secret(at.Key, encrypted)) : null, commitWithAudit);
        return new SettingOutcome
        {
            Status = current is null ? StatusCodes.Status201Created : StatusCodes.Status200OK, Setting = saved, Location = store.Location(at),
        };
    }

    public async Task<SettingOutcome> DeleteAsync(DbConnection db, SettingAddress at, HttpContext http)
    {
        if (at.Store.KeyProblem(at.Key) is { } problem) return SettingOutcome.Invalid(at.Store.KeyField, problem);
        using var turn = await TurnAsync(db, at, http.RequestAborted);
        var (tx, (current, ownerExists)) = await BeginAsync(db, at);
        await using var _ = tx;
        if (current is null)
            return !ownerExists
                ? SettingOutcome.NotFound(ConfigurationScopes.Describe(at.Scope, at.ScopeId!))
                : SettingOutcome.NotFound(at.Store.Describe(at));
        if (Stale(http, current) is { } stale) return stale;
        await RemoveAsync(db, tx, at, current, Actor(http), "delete", new AuditEvent("setting.deleted", at.Store.Name, Target(at), new { key = at.Key }), http);
        await CommitAsync(tx, turn);
        Saved(at, "deleted", http);
        return new SettingOutcome { Status = StatusCodes.Status204NoContent };
    }

    /// <summary>Removes every configuration owned by a tool or tool instance being deleted, recording each.</summary>
    public async Task DeleteOwnedAsync(DbConnection db, DbTransaction tx, string scope, string scopeId, HttpContext http)
    {
        var rows = await QueryAsync(db, SettingStore.Configurations, "WHERE scope = @scope AND scope_id = @scopeId", new { scope, scopeId }, tx);
        foreach (var row in rows) await RemoveAsync(db, tx, SettingAddress.Configuration(scope, scopeId, row.Key), row, Actor(http));
    }

    /// <summary>The recorded changes of a setting, newest first (admins).</summary>
    public async Task<SettingOutcome> HistoryAsync(DbConnection db, SettingAddress at)
    {
        if (at.Store.KeyProblem(at.Key) is { } problem) return SettingOutcome.Invalid(at.Store.KeyField, problem);
        var changes = (await db.QueryAsync<HistoryRow>($"{HistorySelect} ORDER BY version DESC", Args(at))).Select(Change).ToList();
        if (changes.Count == 0 && await FindAsync(db, at) is null) return SettingOutcome.NotFound(at.Store.Describe(at));
        return new SettingOutcome { Status = StatusCodes.Status200OK, Changes = changes };
    }

    /// <summary>
    /// Restores the value a recorded version set (a secret's ciphertext too, never revealed), as a new version. Version 0
    /// is the state before the first recorded change: the seeded value, or no setting at all (then it is removed, 204).
    /// </summary>
    public async Task<SettingOutcome> RollbackAsync(DbConnection db, SettingAddress at, SettingRollback body, HttpContext http)
    {
        if (at.Store.KeyProblem(at.Key) is { } problem) return SettingOutcome.Invalid(at.Store.KeyField, problem);
        if (body.Version is not >= 0)
            return SettingOutcome.Invalid("version", "The version to restore is required: a number from the history, or 0 for the value before the first change.");
        using var turn = await TurnAsync(db, at, http.RequestAborted);
        var (tx, (current, ownerExists)) = await BeginAsync(db, at);
        await using var _ = tx;
        if (!ownerExists) return SettingOutcome.NotFound(ConfigurationScopes.Describe(at.Scope, at.ScopeId!));
        var beforeFirst = body.Version == 0;
        var args = new DynamicParameters(Args(at));
        args.Add("version", beforeFirst ? 1 : body.Version);
        if (await db.QuerySingleOrDefaultAsync<HistoryRow>($"{HistorySelect} AND version = @version", args, tx) is not { } entry)
            return SettingOutcome.NotFound(beforeFirst ? $"A recorded change of {at.Store.Describe(at)}" : $"Version {body.Version} of {at.Store.Describe(at)}");
        var stored = beforeFirst ? entry.OldValue : entry.NewValue;
        if (stored is null && !beforeFirst)
            return SettingOutcome.Invalid("version", $"Version {body.Version} deleted the setting: there is no value to restore.");
        if (Stale(http, current) is { } stale) return stale;
        if (stored is null)
        {
            // Before its first change the setting did not exist: rolling back to then removes it.
            var rolledBack = RolledBackEvent(at, body.Version.Value);
            if (current is not null) await RemoveAsync(db, tx, at, current, Actor(http), "rollback", rolledBack, http);
            else await audit.RecordAsync(rolledBack, http, db, tx);
            await CommitAsync(tx, turn);
            return new SettingOutcome { Status = StatusCodes.Status204NoContent };
        }

        var plaintext = stored;
        if (entry.IsEncrypted && !string.IsNullOrEmpty(stored) && (plaintext = secrets.Unprotect(stored)) is null)
        {
            LogUnreadable(logger, at.Scope, at.ScopeId ?? "", at.Key);
            return SettingOutcome.Conflict($"Version {body.Version} of '{at.Key}' can no longer be decrypted (its Data Protection key is gone).");
        }
        var encrypted = entry.IsEncrypted || ConfigKeys.IsSecretName(at.Key);
        if (encrypted && !entry.IsEncrypted) stored = secrets.Protect(plaintext);
        var category = current?.Category ?? SettingCatalogue.Find(at.Key)?.Category ?? "general";
        var saved = await SaveAsync(db, tx, at, current, "rollback", stored, entry.Type, encrypted, plaintext, current?.Description, category, http, Actor(http),
            RolledBackEvent(at, body.Version.Value));
        await CommitAsync(tx, turn);
        Saved(at, "rolled_back", http);
        http.Response.Headers.ETag = saved.ETag;
        return new SettingOutcome { Status = StatusCodes.Status200OK, Setting = saved };
    }

    /// <summary>
    /// Gives every bearer key its current <see cref="Digest"/>: one written before digests were kept, or under another
    /// digest key (plain SHA-256 before, or another key ring key), is written again from the decrypted key.
    /// </summary>
    public async Task FillMissingDigestsAsync(DbConnection db)
    {
        foreach (var store in new[] { SettingStore.SystemConfig, SettingStore.AgentConfigs })
        {
            var rows = (await db.QueryAsync<(long Id, string? Digest)>($"""
                SELECT t.id, t.{store.DigestColumn} FROM {store.Name} t
                WHERE t.{store.KeyColumn} {Data.SqlDialect.Of(db).InList("@keys")} AND t.is_encrypted = TRUE AND t.{store.ValueColumn} <> ''
                """, new { keys = BearerKeys.ToArray() })).AsList();
            var stored = (await QueryAsync(db, store, $"WHERE t.{store.KeyColumn} {Data.SqlDialect.Of(db).InList("@keys")} AND t.is_encrypted = TRUE AND t.{store.ValueColumn} <> ''",
                new { keys = BearerKeys.ToArray() })).ToDictionary(r => r.Id);
            foreach (var (id, digest) in rows)
            {
                var row = stored[id];
                if (secrets.Unprotect(row.Value) is not { } plaintext)
                {
                    LogUnreadable(logger, row.Scope, row.ScopeId ?? "", row.Key);
                    continue;
                }
                var current = Digest(plaintext);
                if (digest != current) await db.ExecuteAsync($"UPDATE {store.Name} SET {store.DigestColumn} = @digest WHERE id = @id", new { digest = current, id });
            }
        }
    }

    /// <summary>HMAC-SHA-256 of a bridge key under <see cref="RecordKeys.BridgeKeyDigestKey"/> (never in the database), as lower-case hex.</summary>
    public string Digest(string plaintext) => Convert.ToHexStringLower(HMACSHA256.HashData(keys.BridgeKeyDigestKey, Encoding.UTF8.GetBytes(plaintext)));

    /// <summary>Records a committed write of <see cref="ApplyAsync"/> in the audit log.</summary>
    public void Committed(SettingOutcome outcome, SettingAddress at, HttpContext? http)
    {
        audit.Record(ChangedEvent(at, outcome.Status == StatusCodes.Status201Created, outcome.Setting?.IsSecret), http);
        Saved(at, outcome, http);
    }

    private static AuditEvent ChangedEvent(SettingAddress at, bool created, bool? secret) => new("setting.changed", at.Store.Name, Target(at),
        new { key = at.Key, created, secret });

    private static AuditEvent RolledBackEvent(SettingAddress at, long version) => new("setting.rolled_back", at.Store.Name, Target(at), new { key = at.Key, version });

    private void Saved(SettingAddress at, SettingOutcome outcome, HttpContext? http) =>
        Saved(at, outcome.Status == StatusCodes.Status201Created ? "created" : "updated", http);

    /// <summary>The settings.saved live event: where, which key and who; never the value.</summary>
    private void Saved(SettingAddress at, string action, HttpContext? http) =>
        events.Publish("settings", "settings.saved",
            new { store = at.Store.Name, scope = at.Scope, scope_id = at.ScopeId, key = at.Key, action, by = http?.User.Identity?.Name }, EventAudience.Admins);

    /// <param name="audited">Recorded in the same transaction, as its last write, which on PostgreSQL commits it (the caller's
    /// <see cref="CommitAsync"/> then only waits for the flush); null: the caller records the change (<see cref="Committed"/>).</param>
    private async Task<StoredSetting> SaveAsync(DbConnection db, DbTransaction tx, SettingAddress at, StoredSetting? current, string action,
        string? stored, string type, bool encrypted, string? plaintext, string? description, string category, HttpContext? http, string actor,
        AuditEvent? audited = null, bool commitWithAudit = true)
    {
        var store = at.Store;
        var digest = store.DigestColumn is not null && encrypted && BearerKeys.Contains(at.Key) && !string.IsNullOrEmpty(plaintext)
            ? Digest(plaintext) : null;
        var now = Timestamp.Now(clock);
        var createdBy = http?.User.Identity?.IsAuthenticated == true ? http.User.UserId() : (long?)null;
        var args = new DynamicParameters(Args(at));
        args.AddDynamicParams(new { value = stored, type, description, category, digest, encrypted, now, createdBy });
        var (id, version) = await WriteAsync(db, tx, $"{(current is null ? store.InsertSql : store.UpdateSql)} RETURNING id", returnsId: true, args,
            new { action, oldValue = current?.Value, newValue = stored, actor }, audited, http, commitWithAudit);
        // What FindAsync would read back now (one round trip fewer inside the setting's turn).
        return new StoredSetting
        {
            Id = id, Key = at.Key, Value = stored, Type = store.Typed ? type : "string",
            Category = store.CategoryColumn is null ? null : category, Description = store.DescriptionColumn is null ? null : description,
            IsEncrypted = encrypted, CreatedBy = store.CreatedByColumn is null ? null : current is null ? createdBy : current.CreatedBy,
            CreatedAt = current?.CreatedAt ?? now, UpdatedAt = now, Scope = at.Scope, ScopeId = at.ScopeId, Version = version,
        };
    }

    private async Task RemoveAsync(DbConnection db, DbTransaction tx, SettingAddress at, StoredSetting current, string actor, string action = "delete",
        AuditEvent? audited = null, HttpContext? http = null)
    {
        var args = new DynamicParameters(Args(at));
        args.AddDynamicParams(new { type = current.Type, encrypted = current.IsEncrypted, now = Timestamp.Now(clock) });
        await WriteAsync(db, tx, at.Store.DeleteSql, returnsId: false, args, new { action, oldValue = current.Value, newValue = (string?)null, actor }, audited, http);
    }

    /// <summary>
    /// A setting's write statement, its history entry and its audit row (when given) as one command: on PostgreSQL one
    /// round trip inside the setting's turn instead of four (the commit included, when the audit row is). Returns the
    /// written row's id (when the statement returns one) and the history's new version. <paramref name="args"/> holds
    /// the address, type, encrypted and now.
    /// </summary>
    private async Task<(long Id, long Version)> WriteAsync(DbConnection db, DbTransaction tx, string writeSql, bool returnsId, DynamicParameters args,
        object change, AuditEvent? audited, HttpContext? http, bool commitWithAudit = true)
    {
        args.AddDynamicParams(change);
        var sql = $"{writeSql};\n{HistoryInsertSql}";
        // On SQLite the audit row extends the chain, which reads its tail first: recorded after the batch, not in it.
        var auditSql = audited is null ? null : audit.AppendToCommand(audited, http, db, args);
        // The transaction's last statement (the audit row is written last): on PostgreSQL it commits with them, one round
        // trip fewer inside the setting's turn.
        var commits = auditSql is not null && commitWithAudit;
        if (auditSql is not null) sql += commits ? $";\n{auditSql};\nCOMMIT" : $";\n{auditSql}";
        long id = 0, version;
        await using (var results = await db.QueryMultipleAsync(sql, args, tx))
        {
            if (returnsId) id = await results.ReadSingleAsync<long>();
            version = await results.ReadSingleAsync<long>();
        }
        if (commits) ((Data.PostgresTransaction)tx).CommittedByCommand();
        if (auditSql is null && audited is not null) await audit.RecordAsync(audited, http, db, tx);
        return (id, version);
    }

    /// <summary>Records a change as the setting's next version (<c>@type</c>, <c>@encrypted</c> and <c>@now</c> as the write's), returning that version.</summary>
    private const string HistoryInsertSql = $"""
        INSERT INTO setting_history (store, scope, scope_id, key, version, action, type, is_encrypted, old_value, new_value, changed_by, changed_at)
        VALUES (@store, @scope, @scopeId, @key, ({NextVersionSql}), @action, @type, @encrypted, @oldValue, @newValue, @actor, @now)
        RETURNING version
        """;

    /// <summary>
    /// Records, inside the caller's transaction, a change to a setting kept outside the database (an agent's Broca files,
    /// <paramref name="store"/> broca_settings or broca_env): a secret's values are stored encrypted, as every store's are.
    /// </summary>
    public Task RecordFileChangeAsync(DbConnection db, DbTransaction tx, string store, string agentId, string key, string action, string type,
        bool secret, string? oldValue, string? newValue, HttpContext http) =>
        RecordAsync(db, tx, store, "agent", agentId, key, action, type, secret,
            secret && !string.IsNullOrEmpty(oldValue) ? secrets.Protect(oldValue) : oldValue,
            secret && !string.IsNullOrEmpty(newValue) ? secrets.Protect(newValue) : newValue, Actor(http), Timestamp.Now(clock));

    /// <summary>The recorded changes of a file-backed store of one agent (every key, or one), newest first.</summary>
    public async Task<List<SettingChange>> FileHistoryAsync(DbConnection db, string store, string agentId, string? key, int limit)
    {
        var rows = await db.QueryAsync<HistoryRow>("""
            SELECT key, version, action, type, is_encrypted, old_value, new_value, changed_by, changed_at FROM setting_history
            WHERE store = @store AND scope = 'agent' AND scope_id = @agentId AND (@key IS NULL OR key = @key)
            ORDER BY id DESC LIMIT @limit
            """, new { store, agentId, key, limit });
        return rows.Select(r => Change(r) with { Key = r.Key }).ToList();
    }

    /// <summary>Records a change as the setting's next version, and returns that version.</summary>
    private static async Task<long> RecordAsync(DbConnection db, DbTransaction tx, string store, string scope, string? scopeId, string key, string action,
        string type, bool encrypted, string? oldValue, string? newValue, string actor, string now)
    {
        var args = new DynamicParameters(new { store, scope, scopeId, key });
        args.AddDynamicParams(new { action, type, encrypted, oldValue, newValue, actor, now });
        return await db.ExecuteScalarAsync<long>(HistoryInsertSql, args, tx);
    }

    /// <summary>412 when If-Match names another version than the current one (or any version of a missing setting).</summary>
    private static SettingOutcome? Stale(HttpContext? http, StoredSetting? current)
    {
        var header = http?.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(header)) return null;
        var tags = header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.StartsWith("W/", StringComparison.Ordinal) ? t[2..] : t).ToList();
        if (current is not null && (tags.Contains("*") || tags.Contains(current.ETag))) return null;
        return new SettingOutcome
        {
            Status = StatusCodes.Status412PreconditionFailed,
            Detail = current is null
                ? "The setting no longer exists: nothing was changed."
                : $"The setting was changed by someone else since you read it (it is now version {current.Version}): nothing was changed. Reload it and apply your change again.",
        };
    }

    /// <summary>
    /// One setting's history entries. Written as the unique index's expression (<c>coalesce(scope_id, '')</c>), so each
    /// lookup is a search of that index however many versions the key has (IS NOT DISTINCT FROM would scan them all).
    /// </summary>
    public const string HistoryWhere = "store = @store AND scope = @scope AND coalesce(scope_id, '') = coalesce(@scopeId, '') AND key = @key";

    /// <summary>The version the next change of a setting gets.</summary>
    public const string NextVersionSql = $"SELECT coalesce(MAX(version), 0) + 1 FROM setting_history WHERE {HistoryWhere}";

    public const string HistorySelect = $"""
        SELECT version, action, type, is_encrypted, old_value, new_value, changed_by, changed_at FROM setting_history
        WHERE {HistoryWhere}
        """;

    private static SettingChange Change(HistoryRow row) => new()
    {
        Version = row.Version, Action = row.Action, Type = row.Type, IsEncrypted = row.IsEncrypted,
        OldValue = row.IsEncrypted ? Hidden(row.OldValue) : Typed(row.Type, row.OldValue),
        NewValue = row.IsEncrypted ? Hidden(row.NewValue) : Typed(row.Type, row.NewValue),
        ChangedBy = row.ChangedBy, ChangedAt = row.ChangedAt,
    };

    private static JsonNode? Hidden(string? stored) => stored is null ? null : JsonValue.Create(stored.Length == 0 ? "" : Changed);

    private static object Args(SettingAddress at) => new { store = at.Store.Name, scope = at.Scope, scopeId = at.ScopeId, key = at.Key };

    private static string Target(SettingAddress at) => at.ScopeId is null ? at.Key : $"{at.Scope}/{at.ScopeId}/{at.Key}";

    private static string Actor(HttpContext? http) => http?.User.FindFirstValue(ClaimTypes.Name) ?? SystemActor;

    /// <summary>The type a value implies when the request names none and nothing is stored yet.</summary>
    private static string Infer(JsonElement? value) => value?.ValueKind switch
    {
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Object or JsonValueKind.Array => "json",
        _ => "string",
    };

    [LoggerMessage(EventId = 7100, Level = LogLevel.Error,
        Message = "Secret {Key} ({Scope} {ScopeId}) cannot be decrypted: the Data Protection key that encrypted it is missing from the key ring. Set the value again.")]
    private static partial void LogUnreadable(ILogger logger, string scope, string scopeId, string key);

    private sealed record HistoryRow
    {
        public string? Key { get; init; }
        public long Version { get; init; }
        public required string Action { get; init; }
        public required string Type { get; init; }
        public bool IsEncrypted { get; init; }
        public string? OldValue { get; init; }
        public string? NewValue { get; init; }
        public required string ChangedBy { get; init; }
        public required string ChangedAt { get; init; }
    }
}
