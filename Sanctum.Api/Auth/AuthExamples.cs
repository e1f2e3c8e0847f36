using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Auth;

/// <summary>The sign-in, two-factor, passkey, password and access-token request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class AuthExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(LoginRequest)] = new LoginRequest { Username = "admin", Password = "correct-horse-battery" },
        [typeof(SecondFactorRequest)] = new SecondFactorRequest { Challenge = "q3Vx0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o", Code = "492039" },
        [typeof(TotpCodeRequest)] = new TotpCodeRequest { Code = "492039" },
        [typeof(PasskeyRename)] = new PasskeyRename { Name = "laptop" },
        [typeof(PasskeySignInStart)] = new PasskeySignInStart { Challenge = "q3Vx0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o" },
        [typeof(PasskeyRegistration)] = new PasskeyRegistration
        {
            Ceremony = "Yk3o0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o", Name = "laptop",
            Credential = RequestExamples.Json(new
            {
                id = "AAECAwQFBgcICQ", rawId = "AAECAwQFBgcICQ", type = "public-key", clientExtensionResults = new { },
                response = new { clientDataJSON = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0", attestationObject = "o2NmbXRkbm9uZQ" },
            }),
        },
        [typeof(PasskeySignIn)] = new PasskeySignIn
        {
            Ceremony = "Yk3o0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o",
            Credential = RequestExamples.Json(new
            {
                id = "AAECAwQFBgcICQ", rawId = "AAECAwQFBgcICQ", type = "public-key", clientExtensionResults = new { },
                response = new { clientDataJSON = "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0", authenticatorData = "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2M", signature = "MEUCIQ", userHandle = "MQ" },
            }),
        },
        [typeof(PasswordChangeRequest)] = new PasswordChangeRequest { CurrentPassword = "admin123", NewPassword = "correct-horse-battery" },
        [typeof(AccessTokenCreate)] = new AccessTokenCreate { Name = "nightly export", ExpiresInDays = 90, Scope = "read" },
    };
}
