using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Auth;

/// <summary>
/// Authenticates a request by its session token (bearer header or cookie) or personal access token (bearer header,
/// <c>sanctum_pat_</c>…): the token's SHA-256 must name an unexpired row of user_sessions or access_tokens whose
/// user is active. The role is always the owner's current one. The row found is cached until the next commit to the
/// database by anyone (<see cref="ResultCache"/>), so a sign-out, deactivation, role change or password reset, made here
/// or by another process, takes effect on the very next request; expiry is checked against the clock on every request.
/// </summary>
public sealed class SessionAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DbConnection db, ResultCache cache,
    IOptions<SanctumOptions> sanctum)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Session";
    public const string SessionIdClaim = "sid";
    public const string PasswordChangeClaim = "password_change_required";
    /// <summary>On a session of a user who must have a second factor and has none yet (Sanctum:TwoFactor:Require).</summary>
    public const string TwoFactorEnrolmentClaim = "two_factor_enrolment_required";
    public const string TokenIdClaim = "token_id";
    public const string TokenScopeClaim = "token_scope";

    private static readonly AuthenticateResult Invalid = AuthenticateResult.Fail("The session token is unknown, expired or ended.");

    private const string Sql = """
        SELECT s.id AS SessionId, s.expires_at, u.id AS UserId, u.username, u.role, u.must_change_password,
            (EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)
                OR EXISTS (SELECT 1 FROM user_passkeys p WHERE p.user_id = u.id)) AS HasSecondFactor
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_token = @hash AND u.status = 'active'
        """;

    private const string TokenSql = """
        SELECT t.id AS TokenId, t.scope, t.expires_at, t.last_used_at, u.id AS UserId, u.username, u.role, u.must_change_password
        FROM access_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = @hash AND u.status = 'active'
        """;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = SessionTokens.Read(Request);
        if (token is null) return AuthenticateResult.NoResult();
        if (AccessTokens.IsAccessToken(token)) return await AuthenticateAccessTokenAsync(token);

        var row = await cache.FindAsync(new SessionKey(SessionTokens.Hash(token)), key => db.QuerySingleOrDefaultAsync<SessionRow>(Sql, new { hash = key.Hash }));
        // expires_at > now compared as the stored text, as SQL compared it.
        if (row is null || string.CompareOrdinal(row.ExpiresAt, Timestamp.Now(TimeProvider)) <= 0) return Invalid;

        var claims = Claims(row.UserId, row.Username, row.Role, row.MustChangePassword);
        claims.Add(new(SessionIdClaim, row.SessionId));
        if (!row.HasSecondFactor && TwoFactorApi.IsRequired(sanctum.Value.TwoFactor, row.Role)) claims.Add(new(TwoFactorEnrolmentClaim, "true"));
        return Success(claims);
    }

    private async Task<AuthenticateResult> AuthenticateAccessTokenAsync(string token)
    {
        // Only as a bearer header: a cookie is for the pages' sessions.
        if (!SessionTokens.IsBearer(Request)) return Invalid;
        var now = TimeProvider.GetUtcNow();
        var row = await cache.FindAsync(new AccessTokenKey(SessionTokens.Hash(token)), key => db.QuerySingleOrDefaultAsync<TokenRow>(TokenSql, new { hash = key.Hash }));
        if (row is null || string.CompareOrdinal(row.ExpiresAt, Timestamp.From(now)) <= 0) return Invalid;
        // last_used_at to the minute: no write per request.
        if (row.LastUsedAt is null || string.CompareOrdinal(row.LastUsedAt, Timestamp.From(now.AddMinutes(-1))) < 0)
            await db.ExecuteAsync("UPDATE access_tokens SET last_used_at = @now WHERE id = @id", new { id = row.TokenId, now = Timestamp.From(now) });

        var claims = Claims(row.UserId, row.Username, row.Role, row.MustChangePassword);
        claims.Add(new(TokenIdClaim, row.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        claims.Add(new(TokenScopeClaim, row.Scope));
        return Success(claims);
    }

    private static List<Claim> Claims(long userId, string username, string role, bool mustChangePassword)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, username),
            new(ClaimTypes.Role, role),
        ];
        if (mustChangePassword) claims.Add(new(PasswordChangeClaim, "true"));
        return claims;
    }

    private AuthenticateResult Success(List<Claim> claims)
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    /// <summary>Cache keys: the SHA-256 of a session token or of a personal access token.</summary>
    private sealed record SessionKey(string Hash);
    private sealed record AccessTokenKey(string Hash);

    private sealed record TokenRow
    {
        public long TokenId { get; init; }
        public required string Scope { get; init; }
        public required string ExpiresAt { get; init; }
        public string? LastUsedAt { get; init; }
        public long UserId { get; init; }
        public required string Username { get; init; }
        public required string Role { get; init; }
        public bool MustChangePassword { get; init; }
    }

    private sealed record SessionRow
    {
        public required string SessionId { get; init; }
        public required string ExpiresAt { get; init; }
        public long UserId { get; init; }
        public required string Username { get; init; }
        public required string Role { get; init; }
        public bool MustChangePassword { get; init; }
        public bool HasSecondFactor { get; init; }
    }
}

public static class ClaimsPrincipalExtensions
{
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The session's id; null when the request came with a personal access token.</summary>
    public static string? SessionId(this ClaimsPrincipal user) => user.FindFirstValue(SessionAuthenticationHandler.SessionIdClaim);

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Users.Roles.Admin);
}
