using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data;
using System.Data.Common;
using Microsoft.Extensions.Options;
using System.Globalization;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Users;

using Sanctum.Api.Events;
namespace Sanctum.Api.Auth;

public static class AuthApi
{
    public static RouteGroupBuilder MapAuth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth").WithTags("Auth").WithRequestExamples(AuthExamples.All);

        group.MapPost("/login", LoginAsync).WithName("Login").AllowAnonymous().RequireRateLimiting(AuthSetup.LoginRateLimit).LimitPasswordHashing()
            .WithSummary("Sign in; returns a session token and sets the sanctum_session cookie")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/logout", LogoutAsync).WithName("Logout").RequireAuthorization(Policies.Session)
            .WithSummary("End the current session");
        group.MapGet("/me", MeAsync).WithName("GetCurrentUser").RequireAuthorization(Policies.SignedIn)
            .WithSummary("The signed-in user");
        group.MapPost("/password", ChangePasswordAsync).WithName("ChangePassword").RequireAuthorization(Policies.Session)
            .RequireRateLimiting(AuthSetup.LoginRateLimit).LimitPasswordHashing()
            .WithSummary("Change your own password (at least 12 characters, not your username or email, not a common password); ends your other sessions and every access token of yours; wrong current passwords count toward the lockout")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/password-rules", () => TypedResults.Ok(new PasswordRulesInfo(PasswordRules.MinLength, PasswordHasher.MaxBytes, PasswordRules.Summary)))
            .WithName("GetPasswordRules").AllowAnonymous()
            .WithSummary("The rules every new password must meet, for forms to show (the server checks them either way)");
        return group;
    }

    internal const string InvalidCredentials = "The username or password is incorrect, or the account is locked or inactive.";

    private static async Task<Results<Ok<LoginResponse>, Ok<TwoFactorChallenge>, ProblemHttpResult, ValidationProblem>> LoginAsync(
        LoginRequest body, DbConnection db, PasswordHasher hasher, IOptions<SanctumOptions> options,
        TimeProvider clock, AuditLog audit, HttpContext http, SanctumMetrics metrics, IEventPublisher events)
    {
        var errors = new Errors();
        if (string.IsNullOrEmpty(body.Username)) errors.Add("username", "A username is required.");
        if (string.IsNullOrEmpty(body.Password)) errors.Add("password", "A password is required.");
        if (errors.Any) return Problems.Invalid(errors);

        var o = options.Value;
        var now = clock.GetUtcNow();
        if (!OidcSetup.PasswordAllowed(o, body.Username!))
        {
            audit.Record(new AuditEvent("auth.login.failed", "user", null, new { username = body.Username, reason = "local_login_disabled" }, "failure"), http);
            metrics.SignIn("failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: OidcSetup.LocalLoginDisabledDetail);
        }
        var account = await db.QuerySingleOrDefaultAsync<LoginRow>(
            "SELECT id, password_hash, status FROM users WHERE username = @username", new { username = body.Username });

        // The attempt counts before the password is checked, so of many attempts in flight at most the threshold get
        // checked: the one that reaches it locks the account, and the rest find it locked.
        var counted = account is not null && await CountAttemptAsync(db, account.Id, o, now, audit, http, body.Username!, metrics, events);
        // Verify even when there is no such user or the account is locked, so every failure takes the same time.
        var passwordOk = hasher.Verify(body.Password!, account?.PasswordHash);
        // The documented default password is only ever good on this machine: behind a proxy or on a public address a
        // fresh install's admin has a one-time password instead, and admin123 from elsewhere is a failed sign-in.
        var defaultFromAfar = passwordOk && body.Password == BootstrapAdmin.LoopbackPassword && !Caller.IsLoopback(http);
        if (account is null || !counted || !passwordOk || defaultFromAfar || account.Status != "active")
        {
            var reason = account is null ? "unknown_user" : !counted ? "locked" : !passwordOk ? "wrong_password"
                : defaultFromAfar ? "default_password_not_loopback" : "inactive";
            audit.Record(new AuditEvent("auth.login.failed", "user", account?.Id.ToString(CultureInfo.InvariantCulture),
                new { username = body.Username, reason }, "failure") { Actor = account is null ? null : body.Username }, http);
            metrics.SignIn(reason == "locked" ? "locked" : "failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: InvalidCredentials);
        }

        // With a second factor on, the password alone issues no session: a challenge for the code instead. The attempt
        // counted above stays counted until the code is accepted, so guesses at the code cannot be reset by the password.
        if (await TwoFactorStore.MethodsAsync(db, account.Id) is { Length: > 0 } methods)
            return TypedResults.Ok(await TwoFactorLogin.ChallengeAsync(db, account.Id, body.Username!, methods, now, audit, http));
        return await SignInSession.IssueAsync(db, account.Id, body.Username!, o, now, audit, http, metrics) is { } signedIn
            ? TypedResults.Ok(signedIn)
            : TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: InvalidCredentials);
    }

    /// <summary>
    /// Counts one attempt on an unlocked account: the attempt that reaches the threshold locks it and the count starts
    /// over. False when the account is locked (attempts while locked change nothing). A success resets the count.
    /// </summary>
    internal static async Task<bool> CountAttemptAsync(DbConnection db, long id, SanctumOptions o, DateTimeOffset now, AuditLog audit, HttpContext http, string username, SanctumMetrics metrics,
        IEventPublisher events)
    {
        var lockUntil = Timestamp.From(now + o.LockoutDuration);
        var result = await db.QuerySingleOrDefaultAsync<string?>("""
            UPDATE users SET
                locked_until = CASE WHEN failed_login_attempts + 1 >= @threshold THEN @lockUntil ELSE locked_until END,
                failed_login_attempts = CASE WHEN failed_login_attempts + 1 >= @threshold THEN 0 ELSE failed_login_attempts + 1 END
            WHERE id = @id AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING coalesce(locked_until, '')
            """,
            new { id, threshold = o.LockoutThreshold, lockUntil, now = Timestamp.From(now) });
        if (result == lockUntil)
        {
            audit.Record(new AuditEvent("auth.lockout", "user", id.ToString(CultureInfo.InvariantCulture), new { username, until = lockUntil }), http);
            metrics.Lockout();
            events.Publish("users", "user.locked", new { user_id = id, username, until = lockUntil }, EventAudience.Admins);
        }
        return result is not null;
    }

    private static async Task<NoContent> LogoutAsync(DbConnection db, AuditLog audit, HttpContext http)
    {
        await db.ExecuteAsync("DELETE FROM user_sessions WHERE id = @id", new { id = http.User.SessionId() });
        audit.Record(new AuditEvent("auth.logout", "user", http.User.UserId().ToString(CultureInfo.InvariantCulture)), http);
        http.Response.Cookies.Delete(SessionTokens.CookieName, new CookieOptions { Path = "/", SameSite = SameSiteMode.Strict, HttpOnly = true });
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<User>, UnauthorizedHttpResult>> MeAsync(DbConnection db, HttpContext http) =>
        await db.QuerySingleOrDefaultAsync<User>($"SELECT {User.Columns} FROM users WHERE id = @id", new { id = http.User.UserId() }) is { } user
            ? TypedResults.Ok(user)
            : TypedResults.Unauthorized();

    private static async Task<Results<NoContent, ValidationProblem>> ChangePasswordAsync(
        PasswordChangeRequest body, DbConnection db, PasswordHasher hasher, TimeProvider clock, AuditLog audit,
        BootstrapAdmin bootstrap, HttpContext http, IOptions<SanctumOptions> options, SanctumMetrics metrics, Events.IEventPublisher events)
    {
        var id = http.User.UserId();
        var errors = new Errors();
        var (hash, username, email) = await db.QuerySingleAsync<(string, string, string)>("SELECT password_hash, username, email FROM users WHERE id = @id", new { id });
        // Guesses of the current password count toward the same lockout as failed sign-ins (and are audited), so a
        // borrowed session cannot be used to find the password.
        var counted = await CountAttemptAsync(db, id, options.Value, clock.GetUtcNow(), audit, http, username, metrics, events);
        if (!counted)
            errors.Add("current_password", "The account is locked after too many wrong passwords; try again later.");
        else if (string.IsNullOrEmpty(body.CurrentPassword) || !hasher.Verify(body.CurrentPassword, hash))
        {
            errors.Add("current_password", "The current password is incorrect.");
            audit.Record(new AuditEvent("auth.password.change_failed", "user", id.ToString(CultureInfo.InvariantCulture), new { reason = "wrong_password" }, "failure"), http);
        }
        if (PasswordRules.Check(body.NewPassword, username, email) is { } problem) errors.Add("new_password", problem);
        else if (body.NewPassword == body.CurrentPassword) errors.Add("new_password", "The new password must differ from the current one.");
        if (errors.Any) return Problems.Invalid(errors);

        // Hashed before the transaction, so the write lock is never held for the length of a bcrypt.
        var newHash = hasher.Hash(body.NewPassword!);
        await db.OpenAsync();
        // Read committed: a concurrent change waits for this row and then finds the hash changed (see Login).
        await using var tx = await db.BeginTransactionAsync(IsolationLevel.ReadCommitted);
        // Compare-and-swap on the hash that was verified: of two concurrent changes from the same password only
        // the first wins; the other is told the current password is wrong, as it would be had they run in turn.
        var changed = await db.ExecuteAsync(
            "UPDATE users SET password_hash = @newHash, must_change_password = FALSE, failed_login_attempts = 0, updated_at = @now WHERE id = @id AND password_hash = @hash",
            new { id, newHash, hash, now = Timestamp.Now(clock) }, transaction: tx);
        if (changed == 0) return Problems.Invalid("current_password", "The current password is incorrect.");
        await db.ExecuteAsync("DELETE FROM user_sessions WHERE user_id = @id AND id <> @sessionId", new { id, sessionId = http.User.SessionId() }, transaction: tx);
        // A new password ends every access token too: whoever knew the old one may have made some.
        await db.ExecuteAsync(AccessTokens.EndAllSql, new { id }, transaction: tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("auth.password.changed", "user", id.ToString(CultureInfo.InvariantCulture)), http);
        bootstrap.ForgetInitialPassword(username);
        return TypedResults.NoContent();
    }

    private sealed record LoginRow
    {
        public long Id { get; init; }
        public required string PasswordHash { get; init; }
        public required string Status { get; init; }
    }
}

/// <summary>What a new password needs: the pages take their minimum length and hint from here.</summary>
public sealed record PasswordRulesInfo(int MinLength, int MaxBytes, [property: System.ComponentModel.DataAnnotations.MaxLength(500)] string Summary);

public sealed record LoginRequest
{
    [Text(50, Min = 1)]
    public string? Username { get; init; }
    [Text(PasswordHasher.MaxBytes, Min = 1, AllowControl = true)]
    public string? Password { get; init; }
}

public sealed record LoginResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(43), System.ComponentModel.DataAnnotations.RegularExpression("^[A-Za-z0-9_-]{43}$")] string Token,
    string ExpiresAt, User User);

public sealed record PasswordChangeRequest
{
    [Text(PasswordHasher.MaxBytes, Min = 1, AllowControl = true)]
    public string? CurrentPassword { get; init; }
    [Text(PasswordHasher.MaxBytes, Min = PasswordRules.MinLength, AllowControl = true)]
    public string? NewPassword { get; init; }
}
