using Microsoft.AspNetCore.Authorization;

namespace Sanctum.Api.Auth;

/// <summary>
/// Personal access tokens: <c>sanctum_pat_</c> and 256 random bits, shown once; only the SHA-256 is stored. A token is a
/// bearer like a session, with the owner's current role, limited to reads when its scope is read, and it never gets past
/// a pending password change.
/// </summary>
public static class AccessTokens
{
    public const string Prefix = "sanctum_pat_";
    public const string Read = "read", Write = "write";
    public static readonly string[] Scopes = [Read, Write];
    public const int MaxPerUser = 50, MaxName = 100, MaxDays = 365;

    /// <summary>Ends every token of user @id: on deactivation, a role change and a password reset.</summary>
    public const string EndAllSql = "DELETE FROM access_tokens WHERE user_id = @id";

    public static string NewToken() => Prefix + SessionTokens.NewToken();

    public static bool IsAccessToken(string token) => token.StartsWith(Prefix, StringComparison.Ordinal);
}

/// <summary>What a token may not do: write with the read scope, anything while the owner must change the password.</summary>
public sealed class AccessTokenLimits : IAuthorizationRequirement
{
    public static readonly AccessTokenLimits Instance = new();

    public sealed class Handler : AuthorizationHandler<AccessTokenLimits>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AccessTokenLimits requirement)
        {
            var scope = context.User.FindFirst(SessionAuthenticationHandler.TokenScopeClaim)?.Value;
            var http = context.Resource as HttpContext;
            var method = http?.Request.Method ?? HttpMethods.Post;
            // Reads that hand out what a write token could misuse (a backup, the audit log, a secret) need more than read scope.
            var reads = (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
                && !(http is not null && NotForReadTokens.Applies(http));
            if (scope is null
                || (!context.User.HasClaim(c => c.Type == SessionAuthenticationHandler.PasswordChangeClaim) && (scope == AccessTokens.Write || reads)))
                context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// Endpoint metadata: a read that a read-scope access token may not make (403), only a session or a write-scope token:
/// downloading a backup, reading the audit log, and any read with <c>reveal=true</c> (a secret's plaintext).
/// </summary>
public sealed class NotForReadTokens
{
    public static readonly NotForReadTokens Instance = new();

    public const string Description = "A read-scope access token is refused (403): this needs a signed-in session or a write-scope token.";

    public static bool Applies(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<NotForReadTokens>() is not null
        || (bool.TryParse(http.Request.Query["reveal"].ToString(), out var reveal) && reveal);
}

public static class NotForReadTokensExtensions
{
    public static TBuilder DenyReadTokens<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(NotForReadTokens.Instance);
}

/// <summary>Only a signed-in session, never a token: managing tokens, changing the password, signing out.</summary>
public sealed class SessionOnly : IAuthorizationRequirement
{
    public static readonly SessionOnly Instance = new();

    public sealed class Handler : AuthorizationHandler<SessionOnly>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SessionOnly requirement)
        {
            if (!context.User.HasClaim(c => c.Type == SessionAuthenticationHandler.TokenScopeClaim)) context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}
