using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Audit;

/// <summary>A row of <c>audit_log</c>, also the wire type of GET /api/audit.</summary>
public sealed record AuditEntry
{
    public const string Columns = "id, at, actor, actor_id, address, action, target_type, target_id, outcome, details, prev_hash, hash";

    public long Id { get; init; }
    public required string At { get; init; }
    /// <summary>Username of whoever acted, or null for the system (a check, a job) and anonymous callers.</summary>
    [MaxLength(AuditApi.MaxActor)]
    public string? Actor { get; init; }
    public long? ActorId { get; init; }
    /// <summary>The client address the request came from.</summary>
    [MaxLength(AuditApi.MaxAddress)]
    public string? Address { get; init; }
    [MaxLength(AuditApi.MaxFilter)]
    public required string Action { get; init; }
    [MaxLength(AuditApi.MaxFilter)]
    public string? TargetType { get; init; }
    [MaxLength(AuditApi.MaxFilter)]
    public string? TargetId { get; init; }
    /// <summary>ok, failure, refused, …: how it ended.</summary>
    [MaxLength(50)]
    public required string Outcome { get; init; }
    /// <summary>The stored JSON text, hashed as it is.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Details { get; init; }

    /// <summary>What changed (field names, counts), never a secret value.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("details")]
    public System.Text.Json.Nodes.JsonNode? DetailsJson => Details is null ? null : System.Text.Json.Nodes.JsonNode.Parse(Details);
    [MaxLength(64), RegularExpression(HashPattern)]
    public string PrevHash { get; init; } = "";
    [MaxLength(64), RegularExpression(HashPattern)]
    public string Hash { get; init; } = "";

    /// <summary>HMAC-SHA256 in lower-case hex (the first row's prev_hash is <see cref="AuditChain.Genesis"/>).</summary>
    public const string HashPattern = "^[0-9a-f]{64}$";
}

/// <summary>
/// The keyed chain of <c>audit_log</c>: each row's <c>hash</c> is an HMAC-SHA256, under <see cref="RecordKeys.AuditKey"/>
/// (a key that is in neither the database nor a backup), over the previous row's MAC and the row's canonical content (its
/// id and every column). Editing, deleting or reordering a row breaks the link at that row, and whoever can only write
/// the database cannot compute a new MAC for a rewritten chain. Retention deletes from the oldest end and appends an
/// <c>audit.pruned</c> anchor naming the last pruned id and MAC; the anchor is a row of the chain, so it carries the same
/// MAC and cannot be forged either. Deleting the newest rows leaves a shorter valid chain: that is what an operator's
/// checkpoint (<see cref="AuditCheckpoint"/>) catches.
/// </summary>
public sealed class AuditChain(RecordKeys keys)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";
    public const string PrunedAction = "audit.pruned";

    /// <summary>
    /// Begins a transaction that may extend the chain. On SQLite, a write transaction (BEGIN IMMEDIATE): the read of the
    /// last row and the inserts hold the one write lock together. On PostgreSQL, READ COMMITTED holding the chain's
    /// advisory transaction lock (<see cref="PostgresLocks.AuditChain"/>, every instance's appenders take it): every
    /// statement after the lock sees the tail as the previous holder committed it, which a serializable snapshot, taken
    /// by the transaction's first statement before the lock was granted, would not.
    /// </summary>
    public static async Task<DbTransaction> BeginAppendAsync(DbConnection db, CancellationToken cancellationToken = default)
    {
        if (db.State != ConnectionState.Open) await db.OpenAsync(cancellationToken);
        if (Data.SqlDialect.Of(db).Engine == Data.DatabaseEngine.Sqlite) return await db.BeginTransactionAsync(cancellationToken);
        var tx = await db.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await db.ExecuteAsync(new CommandDefinition(LockSql, LockArgs, tx, cancellationToken: cancellationToken));
        return tx;
    }

    /// <summary>
    /// Appends <paramref name="rows"/> after the current last row, inside a transaction of <see cref="BeginAppendAsync"/>
    /// (or, on SQLite, any write transaction: BEGIN IMMEDIATE holds the one write lock).
    /// </summary>
    public async Task AppendAsync(IDbConnection db, IDbTransaction tx, IEnumerable<AuditEntry> rows)
    {
        var tail = await db.QuerySingleOrDefaultAsync<Link>(TailSql, transaction: tx);
        foreach (var chunk in Linked(rows, tail).Chunk(InsertChunk))
        {
            var (sql, args) = InsertCommand(chunk);
            await db.ExecuteAsync(sql, args, tx);
        }
    }

    /// <summary>
    /// PostgreSQL's sealing pass, in a transaction of its own on <paramref name="db"/>: links up to <paramref name="limit"/>
    /// rows of <c>audit_unsealed</c> (oldest first, when <paramref name="seal"/>) and then <paramref name="rows"/> into the
    /// chain, removes the sealed ones from <c>audit_unsealed</c> and commits, in two round trips whatever the number of
    /// rows (the chain's lock with the reads, then the writes with the commit), then waits for the flush
    /// (<see cref="Data.DurableCommit"/>): the chain's lock goes at the commit, before the flush. Returns the rows taken
    /// from <c>audit_unsealed</c>.
    /// </summary>
    public async Task<List<AuditEntry>> SealAsync(DbConnection db, IReadOnlyList<AuditEntry> rows, bool seal, int limit)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync(IsolationLevel.ReadCommitted);
        List<AuditEntry> unsealed;
        Link? tail;
        var reads = $"{LockSql}, {Data.DurableCommit.AsyncCommitCall};\n" + (seal ? $"{UnsealedSql};\n" : "") + TailSql;
        var readArgs = new DynamicParameters(LockArgs);
        readArgs.Add("limit", limit);
        await using (var results = await db.QueryMultipleAsync(reads, readArgs, tx))
        {
            await results.ReadAsync();
            unsealed = seal ? (await results.ReadAsync<AuditEntry>()).AsList() : [];
            tail = await results.ReadSingleOrDefaultAsync<Link>();
        }
        var linked = Linked(unsealed.Concat(rows), tail);
        // Nothing to link: nothing was written, and the transaction rolls back.
        if (linked.Count == 0) return unsealed;
        var (insert, args) = InsertCommand(linked);
        args.Add("sealedIds", unsealed.Select(r => r.Id).ToArray());
        await db.ExecuteAsync($"{insert};\nDELETE FROM audit_unsealed WHERE id = ANY(@sealedIds);\nCOMMIT", args, tx);
        ((Data.PostgresTransaction)tx).CommittedByCommand();
        await Data.DurableCommit.CommitAsync(tx, asyncCommitAsked: true);
        return unsealed;
    }

    // On PostgreSQL every appender of every instance takes the chain's advisory transaction lock first.
    private const string LockSql = "SELECT pg_advisory_xact_lock(@chainLock)";
    private static readonly object LockArgs = new { chainLock = Data.PostgresLocks.AuditChain };

    // In id order: the order their transactions took ids, close to the order they committed.
    private const string UnsealedSql = """
        SELECT id, at, actor, actor_id, address, action, target_type, target_id, outcome, details
        FROM audit_unsealed ORDER BY id LIMIT @limit
        """;

    private const string TailSql = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1";

    // Rows per INSERT: 12 parameters each, far below either engine's limit on a statement's parameters.
    private const int InsertChunk = 100;

    private List<AuditEntry> Linked(IEnumerable<AuditEntry> rows, Link? tail)
    {
        var last = tail ?? new Link { Id = 0, Hash = Genesis };
        var linked = new List<AuditEntry>();
        foreach (var row in rows)
        {
            var next = Linked(row, last);
            linked.Add(next);
            last = new Link { Id = next.Id, Hash = next.Hash };
        }
        return linked;
    }

    /// <summary>One INSERT of the linked rows (their parameters numbered by position).</summary>
    private static (string Sql, DynamicParameters Args) InsertCommand(IReadOnlyList<AuditEntry> rows)
    {
        var sql = new StringBuilder($"INSERT INTO audit_log ({AuditEntry.Columns}) VALUES ");
        var args = new DynamicParameters();
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            if (i > 0) sql.Append(", ");
            sql.Append($"(@id{i}, @at{i}, @actor{i}, @actorId{i}, @address{i}, @action{i}, @targetType{i}, @targetId{i}, @outcome{i}, @details{i}, @prevHash{i}, @hash{i})");
            args.Add($"id{i}", r.Id);
            args.Add($"at{i}", r.At);
            args.Add($"actor{i}", r.Actor);
            args.Add($"actorId{i}", r.ActorId);
            args.Add($"address{i}", r.Address);
            args.Add($"action{i}", r.Action);
            args.Add($"targetType{i}", r.TargetType);
            args.Add($"targetId{i}", r.TargetId);
            args.Add($"outcome{i}", r.Outcome);
            args.Add($"details{i}", r.Details);
            args.Add($"prevHash{i}", r.PrevHash);
            args.Add($"hash{i}", r.Hash);
        }
        return (sql.ToString(), args);
    }

    private AuditEntry Linked(AuditEntry row, Link last)
    {
        var linked = row with { Id = last.Id + 1, PrevHash = last.Hash };
        return linked with { Hash = MacOf(linked) };
    }

    /// <summary>The row's MAC (lower-case hex) over its previous MAC and its content.</summary>
    public string MacOf(AuditEntry row) => Convert.ToHexStringLower(HMACSHA256.HashData(keys.AuditKey, Canonical(row)));

    /// <summary>The bytes a row's MAC covers: a JSON array of prev_hash, id and every column, in order.</summary>
    public static byte[] Canonical(AuditEntry row)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteStringValue(row.PrevHash);
            json.WriteNumberValue(row.Id);
            json.WriteStringValue(row.At);
            WriteOptional(json, row.Actor);
            if (row.ActorId is { } actorId) json.WriteNumberValue(actorId); else json.WriteNullValue();
            WriteOptional(json, row.Address);
            json.WriteStringValue(row.Action);
            WriteOptional(json, row.TargetType);
            WriteOptional(json, row.TargetId);
            json.WriteStringValue(row.Outcome);
            WriteOptional(json, row.Details);
            json.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string? value)
    {
        if (value is null) json.WriteNullValue(); else json.WriteStringValue(value);
    }

    /// <summary>The newest row's id and MAC, or null when the log is empty.</summary>
    public AuditCheckpoint? Checkpoint(IDbConnection db) =>
        db.QuerySingleOrDefault<Link>("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1") is { } last
            ? new AuditCheckpoint(last.Id, last.Hash) : null;

    /// <summary>
    /// Walks the whole chain in id order (streamed, not buffered) and names the first row whose MAC, link or position
    /// is wrong. The first row must follow the genesis (id 1) or a pruning anchor that names its predecessor. With a
    /// <paramref name="checkpoint"/>, the row it names must still be there with the same MAC (or, when pruned since, be
    /// named by an anchor), so rows deleted from the newest end are caught too.
    /// </summary>
    public AuditVerification Verify(IDbConnection db, AuditCheckpoint? checkpoint = null)
    {
        long checkedCount = 0;
        Link? previous = null;
        // Whether the first row is anchored, asked before the rows are streamed: a connection runs one command at a
        // time (PostgreSQL has no second reader beside an open one).
        var first = db.QueryFirstOrDefault<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id LIMIT 1");
        var firstAnchored = first is not null && first.Id != 1 && IsAnchored(db, first.Id - 1, first.PrevHash);
        var checkpointState = checkpoint is null ? null : CheckpointState(db, checkpoint, first);
        foreach (var row in db.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id", buffered: false))
        {
            checkedCount++;
            var linked = previous is { } p
                ? row.Id == p.Id + 1 && row.PrevHash == p.Hash
                : row.Id == 1 ? row.PrevHash == Genesis : firstAnchored && row.Id == first!.Id;
            if (!linked || !MacMatches(row)) return new AuditVerification(false, checkedCount, row.Id) { Checkpoint = checkpointState };
            previous = new Link { Id = row.Id, Hash = row.Hash };
        }
        return new AuditVerification(checkpointState is null or AuditCheckpoint.Matched, checkedCount, null) { Checkpoint = checkpointState };
    }

    private bool MacMatches(AuditEntry row) =>
        row.Hash.Length == 64 && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(MacOf(row)), HexOrEmpty(row.Hash));

    private static byte[] HexOrEmpty(string hex)
    {
        try { return Convert.FromHexString(hex); }
        catch (FormatException) { return []; }
    }

    private static string CheckpointState(IDbConnection db, AuditCheckpoint checkpoint, AuditEntry? first)
    {
        var mac = db.QuerySingleOrDefault<string>("SELECT hash FROM audit_log WHERE id = @Id", checkpoint);
        if (mac is not null) return mac == checkpoint.Mac ? AuditCheckpoint.Matched : AuditCheckpoint.Different;
        // Pruned since: an anchor (itself verified with the chain) names it, or it is older than the first row kept.
        if (first is not null && checkpoint.Id < first.Id && IsAnchored(db, checkpoint.Id, checkpoint.Mac)) return AuditCheckpoint.Matched;
        return AuditCheckpoint.Missing;
    }

    // A pruning anchor (itself part of the chain, so it cannot be forged without the key) vouches for the row it names.
    private static bool IsAnchored(IDbConnection db, long throughId, string hash) => db.ExecuteScalar<bool>($"""
        SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = '{PrunedAction}'
            AND CAST(json_extract(details, '$.through_id') AS TEXT) = CAST(@throughId AS TEXT) AND json_extract(details, '$.through_hash') = @hash)
        """, new { throughId, hash });

    private sealed record Link
    {
        public long Id { get; init; }
        public required string Hash { get; init; }
    }
}

/// <summary>
/// The newest audit row's id and MAC, for an operator to keep outside the database (GET /api/audit/checkpoint) and hand
/// back to GET /api/audit/verify as <c>checkpoint=id:mac</c>.
/// </summary>
public sealed record AuditCheckpoint(long Id, [property: MaxLength(64), RegularExpression(AuditEntry.HashPattern)] string Mac)
{
    public const string Matched = "matched", Different = "different", Missing = "missing";
    public const string Pattern = "^[0-9]{1,19}:[0-9a-f]{64}$";

    /// <summary>The form verify takes back: <c>id:mac</c>.</summary>
    [MaxLength(84), RegularExpression(Pattern)]
    public string Checkpoint => $"{Id}:{Mac}";

    public static AuditCheckpoint? Parse(string? text)
    {
        if (text is null || !System.Text.RegularExpressions.Regex.IsMatch(text, Pattern)) return null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return long.TryParse(text[..colon], System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0
            ? new AuditCheckpoint(id, text[(colon + 1)..]) : null;
    }
}

/// <summary>
/// The answer of GET /api/audit/verify: <c>first_bad_id</c> is the first row that breaks the chain; <c>checkpoint</c>
/// (when one was given) is matched, different (the row is there with another MAC) or missing (the row is gone).
/// </summary>
public sealed record AuditVerification(bool Ok, long Checked, long? FirstBadId)
{
    [OneOf(AuditCheckpoint.Matched, AuditCheckpoint.Different, AuditCheckpoint.Missing)]
    public string? Checkpoint { get; init; }
}
