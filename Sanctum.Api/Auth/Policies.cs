namespace Sanctum.Api.Auth;

/// <summary>
/// Named authorization policies. Every one but <see cref="SignedIn"/> and <see cref="Session"/> also requires that no
/// password change is pending, so a forced change blocks everything except me, password and logout. A personal access
/// token passes only the policies with <see cref="AccessTokenLimits"/>, and only for reads when its scope is read.
/// </summary>
public static class Policies
{
    /// <summary>Any signed-in user, even one who must still change the password.</summary>
    public const string SignedIn = "signed-in";
    /// <summary>A signed-in session, never a personal access token, even with a password change pending: sign-out, password change.</summary>
    public const string Session = "session";
    /// <summary>A signed-in session of any role with no password change pending: managing one's access tokens.</summary>
    public const string SessionReader = "session-reader";
    /// <summary>viewer, user or admin: reads.</summary>
    public const string Reader = "reader";
    /// <summary>user or admin: chat and own settings.</summary>
    public const string Member = "member";
    /// <summary>admin: every write to the system.</summary>
    public const string Admin = "admin";

    public static TBuilder RequireReader<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(Reader);
    public static TBuilder RequireMember<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(Member);
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(Admin);
}
