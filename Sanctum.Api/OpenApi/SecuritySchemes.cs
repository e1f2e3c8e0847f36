using Microsoft.OpenApi;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.OpenApi;

/// <summary>
/// The ways a caller proves who it is (<see cref="Credentials"/>), as the OpenAPI document describes them. Session
/// endpoints (authorization metadata) accept the bearer token or the cookie; the chat bridge's keyed actions say which
/// keys open them with their authorization policies (<see cref="ChatBridge.BridgeKeyHandler.Keys"/>); endpoints with
/// neither are public.
/// </summary>
public static class SecuritySchemes
{
    public static IEnumerable<(string Name, OpenApiSecurityScheme Scheme)> All()
    {
        yield return (Credentials.SessionToken, Bearer("`Authorization: Bearer <token>` with the token returned by POST /api/auth/login (valid for the "
            + "session lifetime, ended by POST /api/auth/logout). The token is opaque: not a JWT."));
        yield return (Credentials.AccessToken, Bearer("A personal access token for scripts: `Authorization: Bearer sanctum_pat_…` from POST /api/auth/tokens. "
            + "It acts with its owner's role until it expires or is revoked; a token of scope read may only read (GET), anything else is 403, "
            + "and it may not download a backup, read the audit log or reveal a secret (reveal=true): those need a session or a write-scope token. "
            + "Not accepted where only a signed-in session will do (sign-out, password change, managing tokens)."));
        yield return (Credentials.SessionCookie, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = Auth.SessionTokens.CookieName,
            Description = "The HttpOnly, SameSite=Strict cookie that POST /api/auth/login sets; the pages use it. "
                + "A write that carries it must come from this site (403 otherwise).",
        });
        yield return (Credentials.BridgeKey, Bearer("Chat bridge relay key: `Authorization: Bearer <key>` with the system setting chat_api_key, the admin "
            + "key, or an active agent's own chat_api_key (which reaches only that agent's sessions). Not a session token."));
        yield return (Credentials.BridgeAdminKey, Bearer(
            "Chat bridge admin key: `Authorization: Bearer <key>` with the system setting chat_admin_key. Not a session token."));
    }

    private static OpenApiSecurityScheme Bearer(string description) =>
        new() { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = description };
}
