using System.ComponentModel.DataAnnotations;
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
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Auth;

/// <summary>
/// Passkeys (WebAuthn, with Fido2): the signed-in user registers, lists, renames and removes them; the sign-in with one
/// is in <see cref="PasskeyLogin"/>. Every ceremony's options are kept server-side (<see cref="PasskeyStore"/>): the
/// client gets a handle and the options to hand to navigator.credentials, and sends the authenticator's answer back.
/// </summary>
public static class PasskeysApi
{
    public static IEndpointRouteBuilder MapPasskeys(this IEndpointRouteBuilder routes)
    {
        var login = routes.MapGroup("/api/auth/login/passkey").WithTags("Auth").WithRequestExamples(AuthExamples.All).AllowAnonymous().RequireRateLimiting(AuthSetup.LoginRateLimit);
        login.MapPost("/options", PasskeyLogin.StartAsync).WithName("StartPasskeySignIn")
            .WithSummary("Start a sign-in with a passkey: without a challenge, a password-less sign-in (any passkey of any account); with the challenge from POST /api/auth/login, the second factor of that sign-in (the account's passkeys). Returns a ceremony handle and the options for navigator.credentials.get (PublicKeyCredential.parseRequestOptionsFromJSON); the ceremony lasts 5 minutes and is used once")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        login.MapPost("/", PasskeyLogin.FinishAsync).WithName("PasskeySignIn")
            .WithSummary("Finish a sign-in with a passkey: the ceremony handle and the authenticator's answer (PublicKeyCredential.toJSON()); answers as a password sign-in does (token and cookie). A refused passkey counts toward the account's lockout, and as a try of the password step's challenge")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);

        var self = routes.MapGroup("/api/auth/passkeys").WithTags("Auth").WithRequestExamples(AuthExamples.All).RequireAuthorization(Policies.Session);
        self.MapGet("/", ListAsync).WithName("ListPasskeys").WithSummary("Your passkeys (name, when registered, when last used)");
        self.MapPost("/registration", StartRegistrationAsync).WithName("StartPasskeyRegistration")
            .WithSummary("Start registering a passkey: a ceremony handle and the options for navigator.credentials.create (PublicKeyCredential.parseCreationOptionsFromJSON); lasts 5 minutes, used once")
            .ProducesProblem(StatusCodes.Status409Conflict);
        self.MapPost("/", RegisterAsync).WithName("RegisterPasskey")
            .WithSummary("Finish registering a passkey: the ceremony handle, a name and the authenticator's answer (PublicKeyCredential.toJSON()). With a passkey, sign-in asks for it (or a TOTP code) after the password, and the login page can sign you in with it alone")
            .ProducesProblem(StatusCodes.Status409Conflict);
        self.MapPatch("/{id:long}", RenameAsync).WithName("RenamePasskey").WithSummary("Rename one of your passkeys")
            .ProducesProblem(StatusCodes.Status404NotFound);
        self.MapDelete("/{id:long}", RemoveAsync).WithName("RemovePasskey").WithSummary("Remove one of your passkeys; it no longer signs in. Audited")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<Ok<IEnumerable<Passkey>>> ListAsync(DbConnection db, HttpContext http) =>
        TypedResults.Ok(await db.QueryAsync<Passkey>($"SELECT {PasskeyStore.Columns} FROM user_passkeys WHERE user_id = @id ORDER BY id",
            new { id = http.User.UserId() }));

    private static async Task<Results<Ok<PasskeyCeremony>, ProblemHttpResult>> StartRegistrationAsync(
        DbConnection db, PublicOrigins origins, IOptions<SanctumOptions> options, TimeProvider clock, HttpContext http)
    {
        var id = http.User.UserId();
        var existing = (await PasskeyStore.CredentialIdsAsync(db, id)).ToList();
        if (existing.Count >= PasskeyStore.MaxPerUser) return Problems.Conflict($"You already have {PasskeyStore.MaxPerUser} passkeys; remove one first.");
        var name = http.User.Identity!.Name!;
        var create = PasskeyStore.RelyingParty(origins, options).RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = PasskeyStore.UserHandle(id), Name = name, DisplayName = name },
            ExcludeCredentials = existing.Select(c => new PublicKeyCredentialDescriptor(PasskeyStore.FromBase64Url(c))).ToList(),
            // Resident (discoverable), so the login page can sign in with it before anyone typed a username.
            AuthenticatorSelection = new AuthenticatorSelection
            {
                ResidentKey = ResidentKeyRequirement.Required,
                UserVerification = UserVerificationRequirement.Preferred,
            },
            AttestationPreference = AttestationConveyancePreference.None,
        });
        var json = create.ToJson();
        var handle = await PasskeyStore.StartCeremonyAsync(db, PasskeyStore.Register, id, null, json, clock.GetUtcNow());
        return TypedResults.Ok(new PasskeyCeremony(handle, JsonDocument.Parse(json).RootElement));
    }

    private static async Task<Results<Created<Passkey>, ProblemHttpResult, ValidationProblem>> RegisterAsync(
        PasskeyRegistration body, DbConnection db, PublicOrigins origins, IOptions<SanctumOptions> options, TimeProvider clock,
        AuditLog audit, HttpContext http)
    {
        var errors = new Errors();
        var name = body.Name!.Trim();
        var credential = ReadCredential<AuthenticatorAttestationRawResponse>(body.Credential, errors);
        if (errors.Any) return Problems.Invalid(errors);

        var id = http.User.UserId();
        var now = clock.GetUtcNow();
        if (await PasskeyStore.TakeCeremonyAsync(db, body.Ceremony!, PasskeyStore.Register, now) is not { } ceremony || ceremony.UserId != id)
            return Problems.Invalid("ceremony", "The registration is unknown, expired or used; start again.");
        RegisteredPublicKeyCredential made;
        try
        {
            made = await PasskeyStore.RelyingParty(origins, options).MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = credential!,
                OriginalOptions = CredentialCreateOptions.FromJson(ceremony.Options),
                IsCredentialIdUniqueToUserCallback = async (p, _) => await PasskeyStore.FindByCredentialAsync(db, PasskeyStore.ToBase64Url(p.CredentialId)) is null,
            }, http.RequestAborted);
        }
        catch (Exception e) when (e is Fido2VerificationException or ArgumentException or InvalidOperationException or FormatException)
        {
            audit.Record(new AuditEvent("auth.passkey.register_failed", "user", id.ToString(CultureInfo.InvariantCulture), new { reason = Reason(e) }, "failure"), http);
            return Problems.Invalid("credential", "The authenticator's answer was refused: " + Reason(e));
        }
        var row = await db.QuerySingleOrDefaultAsync<Passkey>($"""
            INSERT INTO user_passkeys (user_id, credential_id, public_key, sign_count, name, aaguid, created_at)
            SELECT @id, @credentialId, @publicKey, @signCount, @name, @aaguid, @now
            WHERE (SELECT COUNT(*) FROM user_passkeys WHERE user_id = @id) < @max
            RETURNING {PasskeyStore.Columns}
            """, new
        {
            id, credentialId = PasskeyStore.ToBase64Url(made.Id), publicKey = Convert.ToBase64String(made.PublicKey), signCount = (long)made.SignCount,
            name, aaguid = made.AaGuid.ToString(), now = Timestamp.From(now), max = PasskeyStore.MaxPerUser,
        });
        if (row is null) return Problems.Conflict($"You already have {PasskeyStore.MaxPerUser} passkeys; remove one first.");
        audit.Record(new AuditEvent("auth.passkey.registered", "passkey", row.Id.ToString(CultureInfo.InvariantCulture), new { name, aaguid = made.AaGuid }), http);
        return TypedResults.Created($"/api/auth/passkeys/{row.Id}", row);
    }

    private static async Task<Results<Ok<Passkey>, ProblemHttpResult, ValidationProblem>> RenameAsync(
        long id, PasskeyRename body, DbConnection db, AuditLog audit, HttpContext http)
    {
        var name = body.Name!.Trim();
        var row = await db.QuerySingleOrDefaultAsync<Passkey>(
            $"UPDATE user_passkeys SET name = @name WHERE id = @id AND user_id = @userId RETURNING {PasskeyStore.Columns}",
            new { id, name, userId = http.User.UserId() });
        if (row is null) return Problems.NotFound($"Passkey {id}");
        audit.Record(new AuditEvent("auth.passkey.renamed", "passkey", id.ToString(CultureInfo.InvariantCulture), new { name }), http);
        return TypedResults.Ok(row);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(long id, DbConnection db, AuditLog audit, HttpContext http)
    {
        var name = await db.QuerySingleOrDefaultAsync<string>("DELETE FROM user_passkeys WHERE id = @id AND user_id = @userId RETURNING name",
            new { id, userId = http.User.UserId() });
        if (name is null) return Problems.NotFound($"Passkey {id}");
        audit.Record(new AuditEvent("auth.passkey.removed", "passkey", id.ToString(CultureInfo.InvariantCulture), new { name }), http);
        return TypedResults.NoContent();
    }

    public const string CredentialRequired = "The authenticator's answer (PublicKeyCredential.toJSON()) is required.";

    /// <summary>The authenticator's answer as Fido2 reads it; an error on the field when it is not one.</summary>
    internal static T? ReadCredential<T>(JsonElement? given, Errors errors) where T : class
    {
        if (given is not { ValueKind: JsonValueKind.Object } element)
        {
            errors.Add("credential", CredentialRequired);
            return null;
        }
        try
        {
            if (element.Deserialize<T>() is { } read) return read;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or InvalidOperationException) { }
        errors.Add("credential", "The credential is not a WebAuthn answer (PublicKeyCredential.toJSON()).");
        return null;
    }

    internal static string Reason(Exception e) => e.Message.Length > 200 ? e.Message[..200] : e.Message;
}

/// <summary>A passkey as listed: never its key.</summary>
public sealed record Passkey
{
    public long Id { get; init; }
    [MaxLength(PasskeyStore.MaxName)]
    public required string Name { get; init; }
    public required string CreatedAt { get; init; }
    public string? LastUsedAt { get; init; }
}

/// <summary>A WebAuthn ceremony started: the handle to send back, and the options for the browser.</summary>
public sealed record PasskeyCeremony([property: MaxLength(43)] string Ceremony, JsonElement Options);

public sealed record PasskeyRegistration
{
    [RequiredField(ErrorMessage = "The ceremony from POST /api/auth/passkeys/registration is required."), Text(64, Min = 1)]
    public string? Ceremony { get; init; }
    /// <summary>A name to tell it by, 1 to 100 printable characters (e.g. "laptop").</summary>
    [RequiredField, Text(PasskeyStore.MaxName, NotBlank = true, SingleLine = true)]
    public string? Name { get; init; }
    /// <summary>The authenticator's answer: PublicKeyCredential.toJSON() of navigator.credentials.create.</summary>
    [RequiredField(ErrorMessage = PasskeysApi.CredentialRequired)]
    public JsonElement? Credential { get; init; }
}

public sealed record PasskeyRename
{
    [RequiredField, Text(PasskeyStore.MaxName, NotBlank = true, SingleLine = true)]
    public string? Name { get; init; }
}

public sealed record PasskeySignInStart
{
    /// <summary>The challenge from POST /api/auth/login, for the second factor; absent for a password-less sign-in.</summary>
    [Text(64, Min = 1)]
    public string? Challenge { get; init; }
}

public sealed record PasskeySignIn
{
    [RequiredField(ErrorMessage = "The ceremony from POST /api/auth/login/passkey/options is required."), Text(64, Min = 1)]
    public string? Ceremony { get; init; }
    /// <summary>The authenticator's answer: PublicKeyCredential.toJSON() of navigator.credentials.get.</summary>
    [RequiredField(ErrorMessage = PasskeysApi.CredentialRequired)]
    public JsonElement? Credential { get; init; }
}
