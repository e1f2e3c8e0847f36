namespace Sanctum.Api.Infrastructure;

/// <summary>
/// The ways a caller proves who it is, by the names the OpenAPI document gives them (OpenApi/SecuritySchemes.cs
/// describes each): endpoints name them in <see cref="RequiresKey"/>.
/// </summary>
public static class Credentials
{
    public const string SessionToken = "session_token";
    public const string SessionCookie = "session_cookie";
    public const string BridgeKey = "bridge_key";
    public const string BridgeAdminKey = "bridge_admin_key";
    public const string AccessToken = "access_token";

    public static readonly string[] Session = [SessionToken, SessionCookie];
    /// <summary>A session, or a personal access token: every policy but the session-only ones takes either.</summary>
    public static readonly string[] SessionOrAccessToken = [SessionToken, SessionCookie, AccessToken];
}

/// <summary>
/// Endpoint metadata: the endpoint checks a key itself and any one of <paramref name="Schemes"/> opens it; when
/// <paramref name="Optional"/>, it also answers without one (what it does then depends on the request).
/// </summary>
public sealed record RequiresKey(IReadOnlyList<string> Schemes, bool Optional = false);

public static class RequiresKeyExtensions
{
    /// <summary>The endpoint answers without a key too, and takes these where the request needs one.</summary>
    public static TBuilder AcceptKey<TBuilder>(this TBuilder builder, params string[] schemes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiresKey(schemes, Optional: true));
}
