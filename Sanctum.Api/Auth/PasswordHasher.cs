using Microsoft.Extensions.Options;

namespace Sanctum.Api.Auth;

/// <summary>bcrypt with the configured cost, and a stand-in hash so an unknown username costs the same as a known one.</summary>
public sealed class PasswordHasher(IOptions<SanctumOptions> options)
{
    /// <summary>bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused.</summary>
    public const int MaxBytes = 72;

    private readonly Lazy<string> _dummy = new(() => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString(), options.Value.PasswordWorkFactor));

    /// <summary>The bcrypt cost of the hashes made here (Sanctum:PasswordWorkFactor).</summary>
    public int WorkFactor => options.Value.PasswordWorkFactor;

    public string Hash(string password) => BCrypt.Net.BCrypt.HashPassword(password, options.Value.PasswordWorkFactor);

    /// <summary>Verifies against <paramref name="hash"/>, or against the stand-in when there is no user.</summary>
    public bool Verify(string password, string? hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash ?? _dummy.Value) && hash is not null;
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

}
