using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Users;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Auth;

/// <summary>
/// The end of every successful sign-in (password, password and second factor): a new session row, the lockout count
/// reset, the audit row, the cookie. One implementation, so every way in yields the same session.
/// </summary>
public static class SignInSession
{
    /// <summary>The login response, or null when the account stopped being active meanwhile (audited as a failure).</summary>
    public static async Task<LoginResponse?> IssueAsync(DbConnection db, long userId, string username, SanctumOptions o, DateTimeOffset now,
        AuditLog audit, HttpContext http, SanctumMetrics metrics, object? details = null)
    {
        var token = SessionTokens.NewToken();
        var expires = Timestamp.From(now + o.SessionLifetime);
        await db.OpenAsync();
        // Read committed is enough: each statement is guarded by its own WHERE, and the one row every sign-in to the
        // account writes (users) is updated last, so it stays locked only until the commit right after. Serializable
        // here made 64 concurrent sign-ins to one account lose to each other and retry, bcrypt and all.
        await using (var tx = await db.BeginTransactionAsync(IsolationLevel.ReadCommitted))
        {
            var session = new
            {
                id = userId, now = Timestamp.From(now), sessionId = SessionTokens.NewSessionId(), hash = SessionTokens.Hash(token),
                ip = Caller.Address(http), agent = Caller.UserAgent(http), expires,
            };
            await db.ExecuteAsync("DELETE FROM user_sessions WHERE user_id = @id AND expires_at <= @now", session, tx);
            await db.ExecuteAsync("""
                INSERT INTO user_sessions (id, user_id, session_token, ip_address, user_agent, expires_at)
                VALUES (@sessionId, @id, @hash, @ip, @agent, @expires)
                """, session, tx);
            // Re-checked where the result is recorded: an account deactivated or locked by an admin meanwhile stays out
            // (the session above goes with the rollback).
            var signedIn = await db.ExecuteAsync("""
                UPDATE users SET failed_login_attempts = 0, locked_until = NULL, last_login = @now WHERE id = @id AND status = 'active'
                """, session, tx) == 1;
            if (!signedIn)
            {
                audit.Record(new AuditEvent("auth.login.failed", "user", userId.ToString(CultureInfo.InvariantCulture),
                    new { username, reason = "inactive" }, "failure"), http);
                return null;
            }
            await tx.CommitAsync();
        }
        // Not yet signed in on this request: the account that signed in is the actor, not the system.
        audit.Record(new AuditEvent("auth.login.succeeded", "user", userId.ToString(CultureInfo.InvariantCulture), details ?? new { username }) { Actor = username }, http);
        var user = await db.QuerySingleAsync<User>($"SELECT {User.Columns} FROM users WHERE id = @id", new { id = userId });
        metrics.SignIn("succeeded");

        http.Response.Cookies.Append(SessionTokens.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            Expires = now + o.SessionLifetime,
        });
        return new LoginResponse(token, expires, user);
    }
}
