using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Auth;

/// <summary>
/// Authenticates a request by its session token (bearer header or cookie): the token's SHA-256 must name an
/// unexpired row of user_sessions whose user is active.
/// </summary>
public sealed class SessionAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, SqliteConnection db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Session";
    public const string SessionIdClaim = "sid";
    public const string PasswordChangeClaim = "password_change_required";

    private static readonly AuthenticateResult Invalid = AuthenticateResult.Fail("The session token is unknown, expired or ended.");

    private const string Sql = """
        SELECT s.id AS SessionId, u.id AS UserId, u.username, u.role, u.must_change_password
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_token = @hash AND s.expires_at > @now AND u.status = 'active'
        """;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = SessionTokens.Read(Request);
        if (token is null) return Task.FromResult(AuthenticateResult.NoResult());

        var row = db.QuerySingleOrDefault<SessionRow>(Sql, new { hash = SessionTokens.Hash(token), now = Timestamp.Now(TimeProvider) });
        if (row is null) return Task.FromResult(Invalid);

        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, row.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, row.Username),
            new(ClaimTypes.Role, row.Role),
            new(SessionIdClaim, row.SessionId),
        ];
        if (row.MustChangePassword) claims.Add(new(PasswordChangeClaim, "true"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    private sealed record SessionRow
    {
        public required string SessionId { get; init; }
        public long UserId { get; init; }
        public required string Username { get; init; }
        public required string Role { get; init; }
        public bool MustChangePassword { get; init; }
    }
}

public static class ClaimsPrincipalExtensions
{
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!, System.Globalization.CultureInfo.InvariantCulture);

    public static string SessionId(this ClaimsPrincipal user) => user.FindFirstValue(SessionAuthenticationHandler.SessionIdClaim)!;

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Users.Roles.Admin);
}
