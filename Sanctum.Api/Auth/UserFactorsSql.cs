using System.Data.Common;
using Dapper;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

/// <summary>
/// The factors of a page of users, for the users list: two queries over every user (the table admins fill), kept to
/// the page here. No IN list: Dapper expands one on SQLite but sends an array on PostgreSQL, where IN @ids fails.
/// </summary>
public static class UserFactorsSql
{
    public static Dictionary<long, UserFactors> Read(DbConnection db, long[] ids)
    {
        if (ids.Length == 0) return [];
        var page = ids.ToHashSet();
        var counts = db.Query<(long Id, long Totp, long Passkeys)>("""
            SELECT u.id,
                (SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL),
                (SELECT COUNT(*) FROM user_passkeys p WHERE p.user_id = u.id)
            FROM users u
            """).Where(c => page.Contains(c.Id));
        var providers = db.Query<(long UserId, string Issuer)>("SELECT user_id, issuer FROM user_identities ORDER BY issuer")
            .Where(p => page.Contains(p.UserId)).ToLookup(p => p.UserId, p => p.Issuer);
        return counts.ToDictionary(c => c.Id, c => new UserFactors(c.Totp > 0, (int)c.Passkeys, providers[c.Id].ToList()));
    }
}
