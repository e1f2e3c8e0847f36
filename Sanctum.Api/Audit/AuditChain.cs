using System.Data;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using System.ComponentModel.DataAnnotations;

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

    /// <summary>SHA-256 in lower-case hex (the first row's prev_hash is <see cref="AuditChain.Genesis"/>).</summary>
    public const string HashPattern = "^[0-9a-f]{64}$";
}

/// <summary>
/// The hash chain of <c>audit_log</c>: each row's hash is SHA-256 over the previous row's hash and the row's canonical
/// content (its id and every column), so editing, deleting or reordering a row breaks the link at that row. Retention
/// deletes from the oldest end and appends an <c>audit.pruned</c> anchor naming the last pruned id and hash, which lets
/// the first remaining row still be checked.
/// </summary>
public static class AuditChain
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";
    public const string PrunedAction = "audit.pruned";

    /// <summary>
    /// Appends <paramref name="rows"/> after the current last row. Call inside a write transaction (Microsoft.Data.Sqlite's
    /// BeginTransaction is BEGIN IMMEDIATE), so the read of the last row and the inserts hold the one write lock together.
    /// </summary>
    public static void Append(IDbConnection db, IDbTransaction tx, IEnumerable<AuditEntry> rows)
    {
        var last = db.QuerySingleOrDefault<Link>("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", transaction: tx)
                   ?? new Link { Id = 0, Hash = Genesis };
        foreach (var row in rows)
        {
            var linked = row with { Id = last.Id + 1, PrevHash = last.Hash };
            linked = linked with { Hash = HashOf(linked) };
            db.Execute($"""
                INSERT INTO audit_log ({AuditEntry.Columns})
                VALUES (@Id, @At, @Actor, @ActorId, @Address, @Action, @TargetType, @TargetId, @Outcome, @Details, @PrevHash, @Hash)
                """, linked, tx);
            last = new Link { Id = linked.Id, Hash = linked.Hash };
        }
    }

    public static string HashOf(AuditEntry row)
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
        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteOptional(Utf8JsonWriter json, string? value)
    {
        if (value is null) json.WriteNullValue(); else json.WriteStringValue(value);
    }

    /// <summary>
    /// Walks the whole chain in id order (streamed, not buffered) and names the first row whose hash, link or position
    /// is wrong. The first row must follow the genesis (id 1) or a pruning anchor that names its predecessor.
    /// </summary>
    public static AuditVerification Verify(IDbConnection db)
    {
        long checkedCount = 0;
        Link? previous = null;
        // Whether the first row is anchored, asked before the rows are streamed: a connection runs one command at a
        // time (PostgreSQL has no second reader beside an open one).
        var first = db.QueryFirstOrDefault<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id LIMIT 1");
        var firstAnchored = first is not null && first.Id != 1 && IsAnchored(db, first);
        foreach (var row in db.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id", buffered: false))
        {
            checkedCount++;
            var linked = previous is { } p
                ? row.Id == p.Id + 1 && row.PrevHash == p.Hash
                : row.Id == 1 ? row.PrevHash == Genesis : firstAnchored && row.Id == first!.Id;
            if (!linked || HashOf(row) != row.Hash) return new AuditVerification(false, checkedCount, row.Id);
            previous = new Link { Id = row.Id, Hash = row.Hash };
        }
        return new AuditVerification(true, checkedCount, null);
    }

    // A pruning anchor (itself part of the chain, so it cannot be forged without breaking it) vouches for the first row.
    private static bool IsAnchored(IDbConnection db, AuditEntry first) => db.ExecuteScalar<bool>($"""
        SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = '{PrunedAction}'
            AND CAST(json_extract(details, '$.through_id') AS TEXT) = CAST(@throughId AS TEXT) AND json_extract(details, '$.through_hash') = @hash)
        """, new { throughId = first.Id - 1, hash = first.PrevHash });

    private sealed record Link
    {
        public long Id { get; init; }
        public required string Hash { get; init; }
    }
}

/// <summary>The answer of GET /api/audit/verify: <c>first_bad_id</c> is the first row that breaks the chain.</summary>
public sealed record AuditVerification(bool Ok, long Checked, long? FirstBadId);
