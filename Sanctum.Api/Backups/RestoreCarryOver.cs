using System.Data.Common;
using Dapper;
using Sanctum.Api.Audit;

namespace Sanctum.Api.Backups;

/// <summary>
/// What a restore takes from the live data into the restored data, so that a restore erases no evidence and brings
/// back no credential: the whole audit log (it outlives every restore, and its chain stays intact), and the access
/// tokens that still exist (a token revoked after the backup stays revoked). Every session ends: everyone signs in again.
/// </summary>
public sealed class RestoreCarryOver
{
    private const int Batch = 500;

    private readonly List<AuditEntry> _audit;
    private readonly HashSet<string> _tokens;

    private RestoreCarryOver(List<AuditEntry> audit, HashSet<string> tokens) => (_audit, _tokens) = (audit, tokens);

    /// <summary>Reads what is carried over from the live data (call alone: see <see cref="Data.MaintenanceGate"/>).</summary>
    public static RestoreCarryOver Read(DbConnection live) => new(
        live.Query<AuditEntry>($"SELECT {AuditEntry.Columns} FROM audit_log ORDER BY id").AsList(),
        live.Query<string>("SELECT token_hash FROM access_tokens").ToHashSet(StringComparer.Ordinal));

    /// <summary>Puts it into the restored data in one transaction; returns the sessions ended and the tokens kept revoked.</summary>
    public (int SessionsEnded, int TokensKeptRevoked) Apply(DbConnection restored)
    {
        using var tx = restored.BeginTransaction();
        var sessions = restored.Execute("DELETE FROM user_sessions", transaction: tx);
        var revoked = restored.Query<TokenRow>("SELECT id, token_hash AS TokenHash FROM access_tokens", transaction: tx)
            .Where(t => !_tokens.Contains(t.TokenHash)).Select(t => t.Id).ToList();
        // One statement per token: "IN @list" is expanded by Dapper on SQLite but sent as an array to Npgsql.
        restored.Execute("DELETE FROM access_tokens WHERE id = @id", revoked.Select(id => new { id }), tx);
        // Rows the backup caught before they were sealed were sealed in the live log since, and come back with it.
        restored.Execute("DELETE FROM audit_log; DELETE FROM audit_unsealed", transaction: tx);
        foreach (var chunk in _audit.Chunk(Batch))
            restored.Execute($"""
                INSERT INTO audit_log ({AuditEntry.Columns})
                VALUES (@Id, @At, @Actor, @ActorId, @Address, @Action, @TargetType, @TargetId, @Outcome, @Details, @PrevHash, @Hash)
                """, chunk, tx);
        tx.Commit();
        return (sessions, revoked.Count);
    }

    private sealed record TokenRow(long Id, string TokenHash);
}
