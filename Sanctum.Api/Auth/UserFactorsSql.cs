using System.Data.Common;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

/// <summary>The factors of a page of users, for the users list: two queries over the page's ids.</summary>
public static class UserFactorsSql
{
    public static async Task<Dictionary<long, UserFactors>> ReadAsync(DbConnection db, long[] ids)
    {
        if (ids.Length == 0) return [];
        var inIds = SqlDialect.Of(db).InList("@ids");
        var counts = await db.QueryAsync<(long Id, long Totp, long Passkeys)>($"""
            SELECT u.id,
                (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL),
                (SELECT COUNT(*) FROM user_passkeys p WHERE p.user_id = u.id)
            FROM users u WHERE u.id {inIds}
            """, new { ids });
        var providers = (await db.QueryAsync<(long UserId, string Issuer)>(
                $"SELECT user_id, issuer FROM user_identities WHERE user_id {inIds} ORDER BY issuer", new { ids }))
            .ToLookup(p => p.UserId, p => p.Issuer);
        return counts.ToDictionary(c => c.Id, c => new UserFactors(c.Totp > 0, (int)c.Passkeys, providers[c.Id].ToList()));
    }
}
