namespace Sanctum.Api.Auth;

/// <summary>
/// The rule for every new password (sign-up, reset, own change, the seeded admin's forced change): at least
/// <see cref="MinLength"/> characters, at most bcrypt's <see cref="PasswordHasher.MaxBytes"/> bytes, not the
/// account's username or email, and not on the list of common passwords shipped with the project.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 12;

    private static readonly HashSet<string> Common = LoadCommon();

    /// <summary>Null when the password is acceptable for the account, else why not.</summary>
    public static string? Check(string? password, string? username = null, string? email = null) => password switch
    {
        null or "" => "A password is required.",
        { Length: < MinLength } => $"The password must be at least {MinLength} characters.",
        _ when System.Text.Encoding.UTF8.GetByteCount(password) > PasswordHasher.MaxBytes => $"The password must be at most {PasswordHasher.MaxBytes} bytes.",
        _ when Same(password, username) || Same(password, email) => "The password must differ from the username and the email.",
        _ when Common.Contains(password) => "This password is on the list of common passwords; choose another.",
        _ => null,
    };

    private static bool Same(string password, string? other) =>
        !string.IsNullOrEmpty(other) && string.Equals(password, other, StringComparison.OrdinalIgnoreCase);

    private static HashSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordRules).Assembly.GetManifestResourceStream("common-passwords.txt")
            ?? throw new InvalidOperationException("The common-passwords.txt resource is missing from the build.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
            if (line.Trim() is { Length: > 0 } entry && !entry.StartsWith('#')) set.Add(entry);
        return set;
    }
}
