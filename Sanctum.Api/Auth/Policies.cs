namespace Sanctum.Api.Auth;

/// <summary>
/// Named authorization policies. Every one but <see cref="SignedIn"/> also requires that no password change
/// is pending, so a forced change blocks everything except me, password and logout.
/// </summary>
public static class Policies
{
    /// <summary>Any signed-in user, even one who must still change the password.</summary>
    public const string SignedIn = "signed-in";
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
