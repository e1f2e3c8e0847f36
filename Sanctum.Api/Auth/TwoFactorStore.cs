using System.Data.Common;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Auth;

/// <summary>The SQL of two-factor sign-in: user_totp (secret encrypted by <see cref="Secrets"/>) and user_recovery_codes.</summary>
public static class TwoFactorStore
{
    public sealed record TotpRow
    {
        public required string Secret { get; init; }
        public string? ConfirmedAt { get; init; }
        public long LastStep { get; init; }
    }

    public static async Task<bool> IsEnabledAsync(DbConnection db, long userId) =>
        await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM user_totp WHERE user_id = @userId AND confirmed_at IS NOT NULL", new { userId }) > 0;

    /// <summary>The second factors the user can sign in with: totp and/or passkey (empty: the password alone).</summary>
    public static async Task<string[]> MethodsAsync(DbConnection db, long userId)
    {
        var (totp, passkeys) = await db.QuerySingleAsync<(long, long)>("""
            SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = @userId AND confirmed_at IS NOT NULL),
                (SELECT COUNT(*) FROM user_passkeys WHERE user_id = @userId)
            """, new { userId });
        return [.. totp > 0 ? ["totp"] : Array.Empty<string>(), .. passkeys > 0 ? ["passkey"] : Array.Empty<string>()];
    }

    public static Task<TotpRow?> FindAsync(DbConnection db, long userId) =>
        db.QuerySingleOrDefaultAsync<TotpRow>("SELECT secret, confirmed_at, last_step FROM user_totp WHERE user_id = @userId", new { userId });

    /// <summary>The row's secret in clear (in memory only); null when the key ring no longer reads it.</summary>
    public static byte[]? Secret(TotpRow row, Secrets secrets) =>
        secrets.Unprotect(row.Secret) is { } base32 ? TotpCodes.FromBase32(base32) : null;

    /// <summary>
    /// Accepts the code's step once: the compare-and-swap on last_step makes a replay (or two requests racing with the
    /// same code) lose.
    /// </summary>
    public static async Task<bool> ConsumeStepAsync(DbConnection db, long userId, long step) =>
        await db.ExecuteAsync("UPDATE user_totp SET last_step = @step WHERE user_id = @userId AND last_step < @step", new { userId, step }) == 1;

    /// <summary>Marks one unused recovery code used; false when it is not one of the user's unused codes.</summary>
    public static async Task<bool> UseRecoveryCodeAsync(DbConnection db, long userId, string typed, DateTimeOffset now) =>
        RecoveryCodes.Normalize(typed) is { } code && await db.ExecuteAsync(
            "UPDATE user_recovery_codes SET used_at = @now WHERE user_id = @userId AND code_hash = @hash AND used_at IS NULL",
            new { userId, hash = RecoveryCodes.Hash(code), now = Timestamp.From(now) }) == 1;

    public static Task<long> RecoveryCodesLeftAsync(DbConnection db, long userId) =>
        db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = @userId AND used_at IS NULL", new { userId });

    /// <summary>Replaces the user's recovery codes with ten new ones and returns them (the only time they are in clear).</summary>
    public static async Task<string[]> NewRecoveryCodesAsync(DbConnection db, DbTransaction tx, long userId)
    {
        var codes = Enumerable.Range(0, RecoveryCodes.Count).Select(_ => RecoveryCodes.New()).ToArray();
        await db.ExecuteAsync("DELETE FROM user_recovery_codes WHERE user_id = @userId", new { userId }, tx);
        foreach (var code in codes)
            await db.ExecuteAsync("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES (@userId, @hash)",
                new { userId, hash = RecoveryCodes.Hash(RecoveryCodes.Normalize(code)!) }, tx);
        return codes;
    }

    /// <summary>Turns every second factor of the user off (their own choice or an admin's reset); true when there was one.</summary>
    public static async Task<bool> RemoveAsync(DbConnection db, long userId)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var removed = await db.ExecuteAsync("DELETE FROM user_totp WHERE user_id = @userId", new { userId }, tx);
        await db.ExecuteAsync("DELETE FROM user_recovery_codes WHERE user_id = @userId", new { userId }, tx);
        await db.ExecuteAsync("DELETE FROM login_challenges WHERE user_id = @userId", new { userId }, tx);
        await tx.CommitAsync();
        return removed > 0;
    }
}
