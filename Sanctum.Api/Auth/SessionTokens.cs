using System.Security.Cryptography;
using System.Text;

namespace Sanctum.Api.Auth;

/// <summary>Opaque session tokens: 256 random bits for the client, only their SHA-256 in the database.</summary>
public static class SessionTokens
{
    public const string CookieName = "sanctum_session";

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The bearer token if the request has one, else the session cookie.</summary>
    public static string? Read(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            var token = header["Bearer ".Length..].Trim();
            return token.Length is > 0 and <= 512 ? token : null;
        }
        return request.Cookies.TryGetValue(CookieName, out var cookie) && cookie.Length is > 0 and <= 512 ? cookie : null;
    }

    public static bool IsBearer(HttpRequest request) => request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
