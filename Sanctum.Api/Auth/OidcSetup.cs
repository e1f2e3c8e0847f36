using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Sanctum.Api.Auth;

/// <summary>
/// Single sign-on with ASP.NET Core's OpenID Connect handler (authorization code with PKCE S256, state and nonce),
/// registered only when Sanctum:Oidc:Authority and ClientId are set. The handler's ticket is never kept: the callback
/// ends in <see cref="OidcSignIn"/>, which issues this server's own session as a password sign-in does.
/// </summary>
public static class OidcSetup
{
    public const string Scheme = "oidc";
    public const string CallbackPath = "/api/auth/oidc/callback";
    public const string LocalLoginDisabledDetail = "Sign-in with a password or passkey is turned off on this server; use single sign-on.";

    /// <summary>Whether local sign-in is off (Sanctum:Oidc:DisableLocalLogin, with a provider configured).</summary>
    public static bool LocalLoginDisabled(SanctumOptions o) => o.Oidc.Enabled && o.Oidc.DisableLocalLogin;

    /// <summary>Whether this username may sign in with its password (always, unless local login is off and it is not the break-glass admin).</summary>
    public static bool PasswordAllowed(SanctumOptions o, string username) =>
        !LocalLoginDisabled(o) || (!string.IsNullOrWhiteSpace(o.Oidc.BreakGlassUser) && string.Equals(o.Oidc.BreakGlassUser, username, StringComparison.Ordinal));

    public static IServiceCollection AddSanctumOidc(this IServiceCollection services, IConfiguration configuration)
    {
        var o = configuration.GetSection(SanctumOptions.Section + ":Oidc").Get<OidcOptions>() ?? new OidcOptions();
        if (!o.Enabled) return services;
        services.AddAuthentication().AddOpenIdConnect(Scheme, options =>
        {
            options.Authority = o.Authority;
            options.ClientId = o.ClientId;
            options.ClientSecret = o.ClientSecret;
            options.RequireHttpsMetadata = o.RequireHttpsMetadata;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.ResponseMode = OpenIdConnectResponseMode.Query;
            options.UsePkce = true;
            // The parameters in the redirect itself (not pushed first), so the browser's request shows what is asked.
            options.PushedAuthorizationBehavior = PushedAuthorizationBehavior.Disable;
            options.CallbackPath = CallbackPath;
            options.SaveTokens = false;
            options.GetClaimsFromUserInfoEndpoint = true;
            options.MapInboundClaims = false;
            options.Scope.Clear();
            foreach (var scope in o.Scopes.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)) options.Scope.Add(scope);
            if (!options.Scope.Contains("openid")) options.Scope.Add("openid");
            // Never used: the callback issues our own session and ends the request (OidcSignIn).
            options.SignInScheme = SessionAuthenticationHandler.SchemeName;
            // The callback is a top-level GET from the provider: Lax is sent with it, and works without https.
            options.CorrelationCookie.SameSite = SameSiteMode.Lax;
            options.NonceCookie.SameSite = SameSiteMode.Lax;
            Microsoft.AspNetCore.Authentication.ClaimActionCollectionMapExtensions.MapJsonKey(options.ClaimActions, o.RoleClaim, o.RoleClaim);
            options.Events.OnTicketReceived = OidcSignIn.TicketReceivedAsync;
            options.Events.OnRemoteFailure = OidcSignIn.RemoteFailureAsync;
        });
        return services;
    }
}
