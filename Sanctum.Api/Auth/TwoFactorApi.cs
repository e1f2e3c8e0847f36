using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Events;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

/// <summary>
/// Two-factor sign-in with an authenticator app (TOTP): the signed-in user enrols (a pending secret, confirmed by one
/// code, which yields ten recovery codes), checks and turns it off; the second sign-in step; an admin's reset.
/// Personal access tokens are unaffected: they are made from a signed-in (two-factor) session.
/// </summary>
public static class TwoFactorApi
{
    public static IEndpointRouteBuilder MapTwoFactor(this IEndpointRouteBuilder routes)
    {
        var auth = routes.MapGroup("/api/auth").WithTags("Auth").WithRequestExamples(AuthExamples.All);
        auth.MapPost("/login/second-factor", TwoFactorLogin.SecondFactor).WithName("LoginSecondFactor").AllowAnonymous()
            .RequireRateLimiting(AuthSetup.LoginRateLimit)
            .WithSummary("Second sign-in step: the challenge from POST /api/auth/login with a code from the authenticator app or an unused recovery code; answers as a password sign-in does (token and cookie). A challenge lasts 5 minutes and allows 5 tries; every wrong code counts toward the lockout")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);

        var self = auth.MapGroup("/2fa").RequireAuthorization(Policies.Session);
        self.MapGet("/", Status).WithName("GetTwoFactorStatus")
            .WithSummary("Your second factor: whether it is on or waiting for its first code, how many recovery codes are left, whether this server requires one of you");
        self.MapPost("/totp", Enrol).WithName("StartTotpEnrolment")
            .WithSummary("Start (or restart) enrolling an authenticator app: a new secret and its otpauth:// URI, pending until confirmed by a code (409 when two-factor is already on)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        self.MapGet("/totp/qr", Qr).WithName("GetTotpEnrolmentQrCode")
            .WithSummary("The pending enrolment's otpauth:// URI as a QR code (SVG) for the authenticator app to scan")
            .Produces(StatusCodes.Status200OK, contentType: "image/svg+xml").ProducesProblem(StatusCodes.Status404NotFound);
        self.MapPost("/totp/confirm", Confirm).WithName("ConfirmTotpEnrolment").RequireRateLimiting(AuthSetup.LoginRateLimit)
            .WithSummary("Confirm the pending enrolment with a code from the app: two-factor is on, and the ten recovery codes are returned, this once")
            .ProducesProblem(StatusCodes.Status404NotFound);
        self.MapDelete("/totp", Disable).WithName("DisableTotp").RequireRateLimiting(AuthSetup.LoginRateLimit)
            .WithSummary("Turn two-factor off with a current code (wrong codes count toward the lockout); the recovery codes go too")
            .ProducesProblem(StatusCodes.Status404NotFound);

        routes.MapDelete("/api/users/{id:long}/2fa", Reset).WithTags("Users").WithName("ResetUserTwoFactor").RequireAdmin()
            .WithSummary("Turn a user's second factors off (a lost phone and lost recovery codes): the authenticator app, the recovery codes and every passkey; they sign in with the password alone until they enrol again. Audited")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    /// <summary>Whether the options require a second factor of a user with this role.</summary>
    public static bool IsRequired(TwoFactorOptions o, string role) =>
        o.Require == TwoFactorRequirement.Everyone || (o.Require == TwoFactorRequirement.Admins && role == Roles.Admin);

    private static async Task<Ok<TwoFactorStatus>> Status(DbConnection db, IOptions<SanctumOptions> options, HttpContext http)
    {
        var id = http.User.UserId();
        var row = await TwoFactorStore.FindAsync(db, id);
        var role = await db.QuerySingleAsync<string>("SELECT role FROM users WHERE id = @id", new { id });
        var providers = await db.QueryAsync<string>("SELECT issuer FROM user_identities WHERE user_id = @id ORDER BY issuer", new { id });
        return TypedResults.Ok(new TwoFactorStatus(
            row?.ConfirmedAt is not null, row is { ConfirmedAt: null },
            row?.ConfirmedAt is not null ? (int)await TwoFactorStore.RecoveryCodesLeftAsync(db, id) : 0,
            IsRequired(options.Value.TwoFactor, role), (int)await PasskeyStore.CountAsync(db, id), [.. providers]));
    }

    private static async Task<Results<Ok<TotpEnrolment>, ProblemHttpResult>> Enrol(
        DbConnection db, Secrets secrets, IOptions<SanctumOptions> options, AuditLog audit, HttpContext http)
    {
        var id = http.User.UserId();
        var secret = TotpCodes.Base32(TotpCodes.NewSecret());
        // Replaces a pending enrolment only: a confirmed one is turned off first, with a code.
        await db.ExecuteAsync("DELETE FROM user_totp WHERE user_id = @id AND confirmed_at IS NULL", new { id });
        var inserted = await db.ExecuteAsync("""
            INSERT INTO user_totp (user_id, secret) SELECT @id, @secret
            WHERE NOT EXISTS (SELECT 1 FROM user_totp WHERE user_id = @id)
            """, new { id, secret = secrets.Protect(secret) });
        if (inserted == 0) return Problems.Conflict("Two-factor is already on; turn it off with a code first (DELETE /api/auth/2fa/totp).");
        audit.Record(new AuditEvent("auth.2fa.enrolment_started", "user", id.ToString(CultureInfo.InvariantCulture)), http);
        return TypedResults.Ok(new TotpEnrolment(secret, TotpCodes.Uri(options.Value.TwoFactor.Issuer, http.User.Identity!.Name!, secret)));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Qr(
        DbConnection db, Secrets secrets, IOptions<SanctumOptions> options, HttpContext http)
    {
        if (await TwoFactorStore.FindAsync(db, http.User.UserId()) is not { ConfirmedAt: null } row || secrets.Unprotect(row.Secret) is not { } secret)
            return Problems.NotFound("A pending enrolment");
        var uri = TotpCodes.Uri(options.Value.TwoFactor.Issuer, http.User.Identity!.Name!, secret);
        using var generator = new QRCoder.QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCoder.QRCodeGenerator.ECCLevel.M);
        var svg = new QRCoder.SvgQRCode(data).GetGraphic(6);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.File(System.Text.Encoding.UTF8.GetBytes(svg), "image/svg+xml");
    }

    private static async Task<Results<Ok<RecoveryCodesIssued>, ProblemHttpResult, ValidationProblem>> Confirm(
        TotpCodeRequest body, DbConnection db, Secrets secrets, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var id = http.User.UserId();
        if (await TwoFactorStore.FindAsync(db, id) is not { ConfirmedAt: null } row || TwoFactorStore.Secret(row, secrets) is not { } secret)
            return Problems.NotFound("A pending enrolment");
        if (TotpCodes.Match(secret, body.Code!, clock.GetUtcNow()) is not { } step)
            return Problems.Invalid("code", "The code is incorrect; check the app's clock and enter the current code.");

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        // On the very row that was checked (the secret unchanged, still pending): a restarted enrolment meanwhile loses.
        var confirmed = await db.ExecuteAsync("""
            UPDATE user_totp SET confirmed_at = @now, last_step = @step WHERE user_id = @id AND secret = @secret AND confirmed_at IS NULL
            """, new { id, step, secret = row.Secret, now = Timestamp.Now(clock) }, tx);
        if (confirmed == 0) return Problems.NotFound("A pending enrolment");
        var codes = await TwoFactorStore.NewRecoveryCodesAsync(db, tx, id);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("auth.2fa.enabled", "user", id.ToString(CultureInfo.InvariantCulture), new { method = "totp" }), http);
        return TypedResults.Ok(new RecoveryCodesIssued(codes));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> Disable(
        [Microsoft.AspNetCore.Mvc.FromBody] TotpCodeRequest body, DbConnection db, Secrets secrets, TimeProvider clock, AuditLog audit,
        HttpContext http, IOptions<SanctumOptions> options, SanctumMetrics metrics, IEventPublisher events)
    {
        var id = http.User.UserId();
        if (!await TwoFactorStore.IsEnabledAsync(db, id)) return Problems.NotFound("Two-factor");
        var now = clock.GetUtcNow();
        // As with a password change: a borrowed session cannot be used to guess the code.
        if (!await AuthApi.CountAttemptAsync(db, id, options.Value, now, audit, http, http.User.Identity!.Name!, metrics, events))
            return Problems.Invalid("code", "The account is locked after too many wrong codes or passwords; try again later.");
        if (!await TwoFactorLogin.TotpAcceptedAsync(db, secrets, id, body.Code!, now))
        {
            audit.Record(new AuditEvent("auth.2fa.disable_failed", "user", id.ToString(CultureInfo.InvariantCulture), new { reason = "wrong_code" }, "failure"), http);
            return Problems.Invalid("code", "The code is incorrect.");
        }
        await db.ExecuteAsync("UPDATE users SET failed_login_attempts = 0 WHERE id = @id", new { id });
        await TwoFactorStore.RemoveAsync(db, id);
        audit.Record(new AuditEvent("auth.2fa.disabled", "user", id.ToString(CultureInfo.InvariantCulture)), http);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Reset(long id, DbConnection db, AuditLog audit, HttpContext http)
    {
        if (await db.QuerySingleOrDefaultAsync<string>("SELECT username FROM users WHERE id = @id", new { id }) is not { } username)
            return Problems.NotFound("User");
        var had = await TwoFactorStore.RemoveAsync(db, id);
        var passkeys = await PasskeyStore.RemoveAllAsync(db, id);
        audit.Record(new AuditEvent("user.2fa.reset", "user", id.ToString(CultureInfo.InvariantCulture),
            new { username, had_two_factor = had, passkeys_removed = passkeys }), http);
        return TypedResults.NoContent();
    }
}

/// <param name="LinkedProviders">The issuers of the single sign-on accounts linked to this user.</param>
public sealed record TwoFactorStatus(bool TotpEnabled, bool TotpPending, int RecoveryCodesLeft, bool Required, int Passkeys,
    [property: MaxLength(10), Infrastructure.Items(500)] string[] LinkedProviders);

public sealed record TotpEnrolment([property: MaxLength(64)] string Secret, [property: MaxLength(300)] string OtpauthUri);

public sealed record RecoveryCodesIssued([property: MaxLength(RecoveryCodes.Count), Infrastructure.Items(19)] string[] RecoveryCodes);

public sealed record TotpCodeRequest
{
    [RequiredField, Text(6, Min = 6), Pattern(TotpCodes.Pattern, TotpCodes.Message)]
    public string? Code { get; init; }
}
