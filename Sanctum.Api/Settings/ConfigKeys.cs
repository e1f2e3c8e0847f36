using System.Text.RegularExpressions;

namespace Sanctum.Api.Settings;

/// <summary>Names of configuration keys and environment variables: the one key rule of every settings store.</summary>
public static partial class ConfigKeys
{
    public const string KeyPattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$";
    public const string EnvNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$";
    public const string CategoryPattern = "^[A-Za-z0-9_-]{1,50}$";
    public const int MaxEnvName = 128, MaxDescription = 500, MaxCategory = 50;

    public static bool IsKey(string? key) => key is not null && Key().IsMatch(key);

    public static bool IsEnvName(string? name) => name is { Length: <= MaxEnvName } && EnvName().IsMatch(name);

    public static bool IsCategory(string? category) => category is not null && Category().IsMatch(category);

    /// <summary>Name endings that make a key a secret in every store, whatever its writer says.</summary>
    public static readonly string[] SecretSuffixes = ["_key", "_token", "_secret", "_password"];

    /// <summary>Keys named *_key, *_token, *_secret or *_password (any case) are always encrypted and masked.</summary>
    public static bool IsSecretName(string key) => SecretSuffixes.Any(s => key.EndsWith(s, StringComparison.OrdinalIgnoreCase));

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Key();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvName();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,50}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Category();
}
