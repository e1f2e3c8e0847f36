namespace Sanctum.Api.Data;

/// <summary>
/// Sanctum:KeyRingKey, the key that encrypts the Data Protection key ring kept in the database (Infrastructure/DatabaseKeyRing.cs)
/// and from which the audit chain's and backups' record keys derive (Audit/RecordKeys.cs); required on PostgreSQL.
/// </summary>
public static class KeyRingKey
{
    /// <summary>Sanctum:KeyRingKey as the 32 bytes it must be, or null with the reason it is unusable.</summary>
    public static byte[]? Parse(string? text, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            problem = "Sanctum:KeyRingKey is not set";
            return null;
        }
        try
        {
            var key = Convert.FromBase64String(text.Trim());
            if (key.Length == 32) return key;
            problem = $"Sanctum:KeyRingKey is {key.Length} bytes, not 32";
        }
        catch (FormatException)
        {
            problem = "Sanctum:KeyRingKey is not base64";
        }
        return null;
    }
}
