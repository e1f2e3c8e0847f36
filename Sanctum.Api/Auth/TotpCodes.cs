using OtpNet;

namespace Sanctum.Api.Auth;

/// <summary>
/// RFC 6238 codes as every authenticator app makes them: SHA-1, 6 digits, 30-second steps, a 160-bit secret. A code is
/// good for its own step and one step either side (clocks drift), and only for a step later than the last one accepted.
/// </summary>
public static class TotpCodes
{
    public const int Digits = 6;
    public const string Pattern = "^[0-9]{6}$";
    public const string Message = "A code is the 6 digits the authenticator app shows.";
    private static readonly VerificationWindow Window = new(previous: 1, future: 1);

    public static byte[] NewSecret() => KeyGeneration.GenerateRandomKey(20);

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    public static byte[] FromBase32(string secret) => Base32Encoding.ToBytes(secret);

    public static string Uri(string issuer, string account, string base32) =>
        $"otpauth://totp/{System.Uri.EscapeDataString(issuer)}:{System.Uri.EscapeDataString(account)}" +
        $"?secret={base32}&issuer={System.Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits={Digits}&period=30";

    public static bool IsWellFormed(string? code) => code is { Length: Digits } && code.All(char.IsAsciiDigit);

    /// <summary>The time step the code belongs to, or null when it matches none within the window.</summary>
    public static long? Match(byte[] secret, string code, DateTimeOffset now) =>
        IsWellFormed(code) && new Totp(secret).VerifyTotp(now.UtcDateTime, code, out var step, Window) ? step : null;

    /// <summary>The code for a moment (tests and the bench play the authenticator app with it).</summary>
    public static string Compute(byte[] secret, DateTimeOffset at) => new Totp(secret).ComputeTotp(at.UtcDateTime);
}
