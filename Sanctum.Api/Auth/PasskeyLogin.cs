using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Events;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Telemetry;

namespace Sanctum.Api.Auth;

/// <summary>
/// Sign-in with a passkey, either alone (a discoverable passkey names its account; user verification required, so the
/// passkey is both factors) or as the second factor after the password (the account's passkeys only; the password
/// step's challenge loses a try per answer, as with a TOTP code). A refused answer counts toward the lockout.
/// </summary>
public static class PasskeyLogin
{
    private const string Refused = "The passkey was not accepted, or the account is locked or inactive.";
    private const string ChallengeGone = "The sign-in challenge is unknown, expired or used up; sign in with the password again.";

    public static async Task<Results<Ok<PasskeyCeremony>, ProblemHttpResult, ValidationProblem>> StartAsync(
        PasskeySignInStart body, DbConnection db, PublicOrigins origins, IOptions<SanctumOptions> options, TimeProvider clock, HttpContext http)
    {
        var now = clock.GetUtcNow();
        var rp = PasskeyStore.RelyingParty(origins, options);
        AssertionOptions assertion;
        long? userId = null;
        string? loginChallenge = null;
        if (string.IsNullOrEmpty(body.Challenge))
        {
            if (OidcSetup.LocalLoginDisabled(options.Value)) return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: OidcSetup.LocalLoginDisabledDetail);
            assertion = rp.GetAssertionOptions(new GetAssertionOptionsParams { AllowedCredentials = [], UserVerification = UserVerificationRequirement.Required });
        }
        else
        {
            loginChallenge = SessionTokens.Hash(body.Challenge);
            userId = await db.QuerySingleOrDefaultAsync<long?>(
                "SELECT user_id FROM login_challenges WHERE id = @id AND tries_left > 0 AND expires_at > @now",
                new { id = loginChallenge, now = Timestamp.From(now) });
            if (userId is null) return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: ChallengeGone);
            var credentials = (await PasskeyStore.CredentialIdsAsync(db, userId.Value)).ToList();
            if (credentials.Count == 0) return Problems.Invalid("challenge", "This account has no passkey; use the code from the authenticator app.");
            assertion = rp.GetAssertionOptions(new GetAssertionOptionsParams
            {
                AllowedCredentials = credentials.Select(c => new PublicKeyCredentialDescriptor(PasskeyStore.FromBase64Url(c))).ToList(),
                UserVerification = UserVerificationRequirement.Discouraged,
            });
        }
        var json = assertion.ToJson();
        var handle = await PasskeyStore.StartCeremonyAsync(db, PasskeyStore.SignIn, userId, loginChallenge, json, now);
        return TypedResults.Ok(new PasskeyCeremony(handle, JsonDocument.Parse(json).RootElement));
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult, ValidationProblem>> FinishAsync(
        PasskeySignIn body, DbConnection db, PublicOrigins origins, IOptions<SanctumOptions> options, TimeProvider clock,
        AuditLog audit, HttpContext http, SanctumMetrics metrics, IEventPublisher events)
    {
        var errors = new Errors();
        var answer = PasskeysApi.ReadCredential<AuthenticatorAssertionRawResponse>(body.Credential, errors);
        if (errors.Any) return Problems.Invalid(errors);

        var now = clock.GetUtcNow();
        if (await PasskeyStore.TakeCeremonyAsync(db, body.Ceremony!, PasskeyStore.SignIn, now) is not { } ceremony)
        {
            metrics.SignIn("failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: "The passkey sign-in is unknown, expired or used; start again.");
        }
        if (ceremony.LoginChallenge is null && OidcSetup.LocalLoginDisabled(options.Value))
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: OidcSetup.LocalLoginDisabledDetail);
        // A try of the password step's challenge is spent first, so of many answers in flight at most the allowed number are checked.
        if (ceremony.LoginChallenge is not null && await db.QuerySingleOrDefaultAsync<long?>("""
                UPDATE login_challenges SET tries_left = tries_left - 1 WHERE id = @id AND tries_left > 0 AND expires_at > @now
                RETURNING user_id
                """, new { id = ceremony.LoginChallenge, now = Timestamp.From(now) }) != ceremony.UserId)
        {
            metrics.SignIn("failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: ChallengeGone);
        }

        var passkey = await PasskeyStore.FindByCredentialAsync(db, answer!.Id);
        // For the second factor, only the account's own passkeys.
        if (passkey is null || (ceremony.UserId is { } expected && passkey.UserId != expected))
        {
            var who = ceremony.UserId;
            audit.Record(new AuditEvent("auth.login.failed", "user", who?.ToString(CultureInfo.InvariantCulture),
                new { reason = "unknown_passkey", method = "passkey" }, "failure"), http);
            metrics.SignIn("failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: Refused);
        }
        var (username, status) = await db.QuerySingleAsync<(string, string)>("SELECT username, status FROM users WHERE id = @id", new { id = passkey.UserId });
        var counted = await AuthApi.CountAttemptAsync(db, passkey.UserId, options.Value, now, audit, http, username, metrics, events);
        string? reason = !counted ? "locked" : status != "active" ? "inactive" : null;
        VerifyAssertionResult? verified = null;
        if (reason is null)
        {
            try
            {
                verified = await PasskeyStore.RelyingParty(origins, options).MakeAssertionAsync(new MakeAssertionParams
                {
                    AssertionResponse = answer,
                    OriginalOptions = AssertionOptions.FromJson(ceremony.Options),
                    StoredPublicKey = Convert.FromBase64String(passkey.PublicKey),
                    StoredSignatureCounter = (uint)passkey.SignCount,
                    IsUserHandleOwnerOfCredentialIdCallback = (p, _) =>
                        Task.FromResult(p.UserHandle is null || PasskeyStore.UserIdOfHandle(p.UserHandle) == passkey.UserId),
                }, http.RequestAborted);
                if (!await PasskeyStore.RecordUseAsync(db, passkey, verified.SignCount, now)) reason = "passkey_replayed";
            }
            catch (Exception e) when (e is Fido2VerificationException or ArgumentException or InvalidOperationException or FormatException)
            {
                reason = "wrong_passkey";
            }
        }
        if (reason is not null)
        {
            audit.Record(new AuditEvent("auth.login.failed", "user", passkey.UserId.ToString(CultureInfo.InvariantCulture),
                new { username, reason, method = "passkey", passkey_id = passkey.Id }, "failure") { Actor = username }, http);
            metrics.SignIn(reason == "locked" ? "locked" : "failed");
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: Refused);
        }
        // The password step's challenge is spent: only the request that deletes it signs in.
        if (ceremony.LoginChallenge is not null
            && await db.ExecuteAsync("DELETE FROM login_challenges WHERE id = @id", new { id = ceremony.LoginChallenge }) != 1)
            return TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: ChallengeGone);
        object details = ceremony.LoginChallenge is null
            ? new { username, method = "passkey", passkey_id = passkey.Id }
            : new { username, second_factor = "passkey", passkey_id = passkey.Id };
        return await SignInSession.IssueAsync(db, passkey.UserId, username, options.Value, now, audit, http, metrics, details) is { } signedIn
            ? TypedResults.Ok(signedIn)
            : TypedResults.Problem(statusCode: 401, title: "Unauthorized", detail: Refused);
    }
}
