using System.Text.RegularExpressions;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Config;

/// <summary>Names of configuration keys and environment variables, and the value rules their writes share.</summary>
public static partial class ConfigKeys
{
    public const string KeyPattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$";
    public const string EnvNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$";
    public const string CategoryPattern = "^[A-Za-z0-9_-]{1,50}$";
    public const int MaxEnvName = 128, MaxDescription = 500, MaxCategory = 50;

    public static bool IsKey(string? key) => key is not null && Key().IsMatch(key);

    public static bool IsEnvName(string? name) => name is { Length: <= MaxEnvName } && EnvName().IsMatch(name);

    public static bool IsCategory(string? category) => category is not null && Category().IsMatch(category);

    public static Errors CheckKey(this Errors errors, string? key)
    {
        if (!IsKey(key)) errors.Add("key", "Must be 1 to 100 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.");
        return errors;
    }

    /// <summary>
    /// The plaintext a write means: sending back the mask of a stored secret keeps that secret, so a form that
    /// shows "********" and saves it unchanged does not overwrite the secret with the mask.
    /// </summary>
    public static string? Plaintext(string? sent, bool storedEncrypted, string? stored, Secrets secrets) =>
        sent == Secrets.Mask && storedEncrypted && !string.IsNullOrEmpty(stored) ? secrets.Unprotect(stored) : sent;

    /// <summary>What goes into the database: ciphertext for a secret, else the text itself.</summary>
    public static string? Stored(string? plaintext, bool encrypted, Secrets secrets) => encrypted ? secrets.Protect(plaintext) : plaintext;

    /// <summary>What a response shows: the text, or for a secret its mask unless an admin asked to reveal it.</summary>
    public static string? Shown(string? stored, bool encrypted, bool reveal, Secrets secrets) =>
        !encrypted ? stored : reveal ? secrets.Unprotect(stored) : Secrets.MaskOf(stored);

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Key();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvName();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,50}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Category();
}
