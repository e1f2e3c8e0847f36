using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

public static class AuthSetup
{
    public const string LoginRateLimit = "login";
    public const string PasswordChangeRequiredType = Problems.TypeBase + "password-change-required";
    public const string TwoFactorEnrolmentRequiredType = Problems.TypeBase + "two-factor-enrolment-required";

    /// <summary>Session authentication, role policies, and the per-address login limiter.</summary>
    public static IServiceCollection AddSanctumAuth(this IServiceCollection services)
    {
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<BootstrapAdmin>();
        services.AddSingleton<PublicOrigins>();
        services.AddSingleton<PasswordHashingLimit>();
        services.AddAuthentication(SessionAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, SessionAuthenticationHandler>(SessionAuthenticationHandler.SchemeName, null);

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.SignedIn, p => p.RequireAuthenticatedUser().AddRequirements(AccessTokenLimits.Instance))
            .AddPolicy(Policies.Session, p => p.RequireAuthenticatedUser().AddRequirements(SessionOnly.Instance))
            .AddPolicy(Policies.SessionReader, p => p.RequireAuthenticatedUser().RequireRole(Roles.All)
                .AddRequirements(NoPasswordChangePending.Instance, SessionOnly.Instance))
            .AddPolicy(Policies.Reader, p => p.RequireAuthenticatedUser().RequireRole(Roles.All).AddRequirements(NoPasswordChangePending.Instance, AccessTokenLimits.Instance))
            .AddPolicy(Policies.Member, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.User).AddRequirements(NoPasswordChangePending.Instance, AccessTokenLimits.Instance))
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin).AddRequirements(NoPasswordChangePending.Instance, AccessTokenLimits.Instance));
        services.AddSingleton<IAuthorizationHandler, NoPasswordChangePending.Handler>();
        services.AddSingleton<IAuthorizationHandler, AccessTokenLimits.Handler>();
        services.AddSingleton<IAuthorizationHandler, SessionOnly.Handler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PasswordChangeResultHandler>();

        // The per-address sign-in limit (Infrastructure/RateLimits.cs keeps the counts in memory or in the database).
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<SanctumOptions>, Data.Database, TimeProvider>((limiter, sanctum, database, clock) =>
        {
            var o = sanctum.Value;
            limiter.AddPolicy(LoginRateLimit, RateLimits.Policy(
                context => RateLimits.FixedWindow(database, clock, "login:", Caller.Address(context), o.LoginPermitLimit, o.LoginWindow), o.LoginWindow,
                (context, seconds) => Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests",
                    $"Too many attempts from this address; try again in {seconds} s.")));
        });
        return services;
    }

    /// <summary>Fails while the signed-in user still has to change a temporary or default password.</summary>
    private sealed class NoPasswordChangePending : IAuthorizationRequirement
    {
        public static readonly NoPasswordChangePending Instance = new();

        public sealed class Handler : AuthorizationHandler<NoPasswordChangePending>
        {
            protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, NoPasswordChangePending requirement)
            {
                // A required second factor not yet enrolled blocks the same endpoints as a pending password change.
                if (!context.User.HasClaim(c => c.Type is SessionAuthenticationHandler.PasswordChangeClaim or SessionAuthenticationHandler.TwoFactorEnrolmentClaim))
                    context.Succeed(requirement);
                return Task.CompletedTask;
            }
        }
    }

    /// <summary>Says why a forbidden request was refused when the reason is a pending password change.</summary>
    private sealed class PasswordChangeResultHandler : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (result.Forbidden && context.User.HasClaim(c => c.Type == SessionAuthenticationHandler.PasswordChangeClaim))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Password change required",
                    "Change your password with POST /api/auth/password before doing anything else.", PasswordChangeRequiredType);
                return;
            }
            if (result.Forbidden && context.User.HasClaim(c => c.Type == SessionAuthenticationHandler.TwoFactorEnrolmentClaim))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Two-factor enrolment required",
                    "This server requires a second factor of you: enrol an authenticator app (POST /api/auth/2fa/totp, then /confirm; the /security page) before doing anything else.",
                    TwoFactorEnrolmentRequiredType);
                return;
            }
            if (result.Forbidden && context.User.FindFirst(SessionAuthenticationHandler.TokenScopeClaim)?.Value is { } scope)
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", scope == AccessTokens.Read
                    ? "This access token has the read scope: it may only read (GET). Its owner's role applies too."
                    : "Access tokens act with their owner's role and cannot manage tokens or passwords; this needs more.");
                return;
            }
            await _default.HandleAsync(next, context, policy, result);
        }
    }
}
