using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Auth;

/// <summary>The sign-in providers the login page offers, and the start of a single sign-on.</summary>
public static class OidcApi
{
    public static IEndpointRouteBuilder MapOidc(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth").WithTags("Auth");
        group.MapGet("/providers", Providers).WithName("ListSignInProviders").AllowAnonymous()
            .WithSummary("The single sign-on providers the login page offers (empty when none is configured)");
        group.MapGet("/login/methods", (IOptions<SanctumOptions> options) =>
                TypedResults.Ok(new SignInMethods(!OidcSetup.LocalLoginDisabled(options.Value), !OidcSetup.LocalLoginDisabled(options.Value))))
            .WithName("GetSignInMethods").AllowAnonymous()
            .WithSummary("Whether the login page offers the password form and password-less passkeys (both off with Sanctum:Oidc:DisableLocalLogin, except the password of the break-glass admin at /login?local=1)");
        group.MapGet("/oidc/login", Login).WithName("StartOidcLogin").AllowAnonymous().RequireRateLimiting(AuthSetup.LoginRateLimit)
            .WithSummary("Start a single sign-on: 302 to the provider's authorization endpoint (code flow with PKCE S256, state and nonce); after its callback our own session cookie is set and the browser goes to next")
            .Produces(StatusCodes.Status302Found).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static Ok<SignInProvider[]> Providers(IOptions<SanctumOptions> options) =>
        TypedResults.Ok(options.Value.Oidc.Enabled
            ? [new SignInProvider(OidcSetup.Scheme, options.Value.Oidc.DisplayName, "/api/auth/oidc/login")]
            : Array.Empty<SignInProvider>());

    private static async Task<IResult> Login([MaxLength(2000)] string? next, HttpContext http, IOptions<SanctumOptions> options, ILoggerFactory logs)
    {
        if (!options.Value.Oidc.Enabled) return Problems.NotFound("A single sign-on provider");
        var properties = new AuthenticationProperties { RedirectUri = "/" };
        properties.Items[OidcSignIn.NextItem] = SafeNext(next);
        try
        {
            await http.ChallengeAsync(OidcSetup.Scheme, properties);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or TaskCanceledException)
        {
            // The provider is down or its metadata unreadable: say so; password sign-in is unaffected.
            logs.CreateLogger("Sanctum.Api.Auth.Oidc").LogWarning("The OpenID provider could not be reached: {Message}", e.Message);
            return TypedResults.Problem(statusCode: 503, title: "Service Unavailable", detail: "The sign-in provider cannot be reached; try again later or sign in with a password.");
        }
        return Results.Empty;
    }

    /// <summary>Only a local path (never another site, never //host): anything else is the start page.</summary>
    public static string SafeNext(string? next) =>
        next is { Length: > 0 and <= 2000 } && next[0] == '/' && !next.StartsWith("//", StringComparison.Ordinal) && !next.StartsWith("/\\", StringComparison.Ordinal)
            && !next.StartsWith("/api/", StringComparison.Ordinal)
            ? next : "/";
}

public sealed record SignInMethods(bool Password, bool Passkey);

public sealed record SignInProvider([property: MaxLength(50)] string Id, [property: MaxLength(100)] string DisplayName, [property: MaxLength(100)] string LoginUrl);
