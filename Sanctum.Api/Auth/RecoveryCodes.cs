using System.Security.Cryptography;
using System.Text;

namespace Sanctum.Api.Auth;

/// <summary>
/// Ten single-use recovery codes per enrolment: 80 random bits each, shown once as xxxx-xxxx-xxxx-xxxx (base32), kept
/// only as SHA-256 (random codes need no slow hash). Dashes, spaces and case do not matter when one is typed back.
/// </summary>
public static class RecoveryCodes
{
    public const int Count = 10;
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string New()
    {
        var chars = new char[16];
        for (var i = 0; i < chars.Length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        var s = new string(chars).ToLowerInvariant();
        return $"{s[..4]}-{s[4..8]}-{s[8..12]}-{s[12..]}";
    }

    /// <summary>The canonical form of a typed code, or null when it cannot be one.</summary>
    public static string? Normalize(string? code)
    {
        if (code is null || code.Length > 40) return null;
        var s = new string(code.Where(c => c is not ('-' or ' ')).ToArray()).ToUpperInvariant();
        return s.Length == 16 && s.All(c => Alphabet.Contains(c)) ? s : null;
    }

    public static string Hash(string normalized) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(normalized)));
}
