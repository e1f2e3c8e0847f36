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

namespace Sanctum.Api.Auth;

/// <summary>
/// The second step of a sign-in to an account with two-factor on: the password step hands out a challenge (only its
/// SHA-256 is stored), good for <see cref="Lifetime"/> and <see cref="Tries"/> tries; a right code or an unused recovery
/// code with it issues the session exactly as a password sign-in does. Every try counts toward the account's lockout.
/// </summary>
public static class TwoFactorLogin
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    public const int Tries = 5;

    private const string ChallengeGone = "The sign-in challenge is unknown, expired or used up; sign in with the password again.";
    private const string WrongCode = "The code is incorrect, or the account is locked or inactive.";

    public static async Task<TwoFactorChallenge> ChallengeAsync(DbConnection db, long userId, string username, string[] methods, DateTimeOffset now, AuditLog audit, HttpContext http)
    {
        var challenge = SessionTokens.NewToken();
        await db.ExecuteAsync("DELETE FROM login_challenges WHERE user_id = @userId AND expires_at <= @now", new { userId, now = Timestamp.From(now) });
        await db.ExecuteAsync("INSERT INTO login_challenges (id, user_id, expires_at, tries_left) VALUES (@id, @userId, @expires, @tries)",
            new { id = SessionTokens.Hash(challenge), userId, expires = Timestamp.From(now + Lifetime), tries = Tries });
        audit.Record(new AuditEvent("auth.login.second_factor_required", "user", userId.ToString(CultureInfo.InvariantCulture), new { username, methods }) { Actor = username }, http);
        return new TwoFactorChallenge(true, challenge, methods);
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult, ValidationProblem>> SecondFactor(
        SecondFactorRequest body, DbConnection db, Secrets secrets, IOptions<SanctumOptions> options, TimeProvider clock,
        AuditLog audit, HttpContext http, SanctumMetrics metrics, IEventPublisher events)
    {
        var errors = new Errors();
        if (string.IsNullOrEmpty(body.Challenge)) errors.Add("challenge", "The challenge from POST /api/auth/login is required.");
        if (string.IsNullOrEmpty(body.Code) == string.IsNullOrEmpty(body.RecoveryCode))
            errors.Add("code", "Give either code (the 6 digits from the authenticator app) or recovery_code.");
        else if (!string.IsNullOrEmpty(body.RecoveryCode) && RecoveryCodes.Normalize(body.RecoveryCode) is null)
            errors.Add("recovery_code", "A recovery code is 16 letters and digits, as xxxx-xxxx-xxxx-xxxx.");
        if (errors.Any) return Problems.Invalid(errors);

        var now = clock.GetUtcNow();
        var id = SessionTokens.Hash(body.Challenge!);
        // A try is spent before the code is checked, so of many tries in flight at most the allowed number get checked.
        var userId = await db.QuerySingleOrDefaultAsync<long?>("""
            UPDATE login_challenges SET tries_left = tries_left - 1 WHERE id = @id AND tries_left > 0 AND expires_at > @now
            RETURNING user_id
            """, new { id, now = Timestamp.From(now) });
        if (userId is not { } user)
        {
            metrics.SignIn("failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: ChallengeGone);
        }
        var (username, status) = await db.QuerySingleAsync<(string, string)>("SELECT username, status FROM users WHERE id = @user", new { user });
        var counted = await AuthApi.CountAttemptAsync(db, user, options.Value, now, audit, http, username, metrics, events);
        var method = body.Code is { Length: > 0 } ? "totp" : "recovery_code";
        var accepted = counted && status == "active" && (method == "totp"
            ? await TotpAcceptedAsync(db, secrets, user, body.Code!, now)
            : await TwoFactorStore.UseRecoveryCodeAsync(db, user, body.RecoveryCode!, now));
        if (!accepted)
        {
            await db.ExecuteAsync("DELETE FROM login_challenges WHERE id = @id AND tries_left <= 0", new { id });
            var reason = !counted ? "locked" : status != "active" ? "inactive" : "wrong_" + method;
            audit.Record(new AuditEvent("auth.login.failed", "user", user.ToString(CultureInfo.InvariantCulture),
                new { username, reason }, "failure") { Actor = username }, http);
            metrics.SignIn(reason == "locked" ? "locked" : "failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: WrongCode);
        }
        // The challenge is spent: only the request that deletes it signs in.
        if (await db.ExecuteAsync("DELETE FROM login_challenges WHERE id = @id", new { id }) != 1)
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: ChallengeGone);
        return await SignInSession.IssueAsync(db, user, username, options.Value, now, audit, http, metrics, new { username, second_factor = method }) is { } signedIn
            ? TypedResults.Ok(signedIn)
            : TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: WrongCode);
    }

    /// <summary>Whether the code matches the user's confirmed secret within the window and its step was never used.</summary>
    public static async Task<bool> TotpAcceptedAsync(DbConnection db, Secrets secrets, long userId, string code, DateTimeOffset now)
    {
        if (await TwoFactorStore.FindAsync(db, userId) is not { ConfirmedAt: not null } row || TwoFactorStore.Secret(row, secrets) is not { } secret)
            return false;
        return TotpCodes.Match(secret, code, now) is { } step && await TwoFactorStore.ConsumeStepAsync(db, userId, step);
    }
}

/// <summary>What POST /api/auth/login answers instead of a session when the account has two-factor on.</summary>
/// <param name="Methods">The second factors the account has: totp (a code or a recovery code) and/or passkey.</param>
public sealed record TwoFactorChallenge(bool TwoFactorRequired, [property: MaxLength(43)] string Challenge, [property: MaxLength(2), Infrastructure.Items(7)] string[] Methods);

public sealed record SecondFactorRequest
{
    [Text(64, Min = 1)]
    public string? Challenge { get; init; }
    [Text(6), Pattern(TotpCodes.Pattern, TotpCodes.Message)]
    public string? Code { get; init; }
    [Text(40)]
    public string? RecoveryCode { get; init; }
}
