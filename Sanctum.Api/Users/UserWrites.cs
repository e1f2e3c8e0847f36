using Sanctum.Api.OpenApi;
using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Users;

/// <summary>The body of POST /api/users.</summary>
public sealed record UserCreate
{
    /// <summary><c>^[A-Za-z0-9_.-]{3,50}$</c>, unique regardless of case.</summary>
    [MaxLength(50)]
    [RegularExpression(UserRules.UsernamePattern)]
    public string? Username { get; init; }
    /// <summary>Unique regardless of case.</summary>
    [MaxLength(UserRules.MaxEmail)]
    [EmailAddress]
    public string? Email { get; init; }
    /// <summary>admin, user (default) or viewer.</summary>
    [OneOf(typeof(Roles))]
    public string? Role { get; init; }
    /// <summary>At least 12 characters, not the username or email, not a common password. Absent or empty: a temporary password is generated, returned once, and must be changed at first sign-in.</summary>
    [MaxLength(PasswordHasher.MaxBytes), RegularExpression(UserRules.OptionalPasswordPattern)]
    public string? Password { get; init; }
}

/// <summary>The body of PATCH /api/users/{id}: the fields present and non-null change.</summary>
public sealed record UserUpdate
{
    [MaxLength(UserRules.MaxEmail)]
    [EmailAddress]
    public string? Email { get; init; }
    /// <summary>admin, user or viewer. The last active admin cannot be demoted (409).</summary>
    [OneOf(typeof(Roles))]
    public string? Role { get; init; }
    /// <summary>active, inactive or locked; anything but active ends the user's sessions. The last active admin cannot leave active (409).</summary>
    [OneOf(typeof(UserStatuses))]
    public string? Status { get; init; }
}

/// <summary>The body of POST /api/users/{id}/password (optional).</summary>
public sealed record PasswordReset
{
    /// <summary>The new password; absent or empty: a temporary one is generated and returned once.</summary>
    [MaxLength(PasswordHasher.MaxBytes), RegularExpression(UserRules.OptionalPasswordPattern)]
    public string? Password { get; init; }
}

/// <summary>A user, with the temporary password when one was just generated (shown this once, never stored in plain text).</summary>
public sealed record UserWithPassword : User
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [MaxLength(16)]
    [RegularExpression(UserRules.TemporaryPasswordPattern)]
    public string? TemporaryPassword { get; init; }
}

public sealed record UserPage([property: MaxLength(UsersApi.MaxLimit)] IEnumerable<ListedUser> Items, long Total, [property: Range(1, UsersApi.MaxLimit)] int Limit, int Offset);

public static partial class UserRules
{
    public const string UsernamePattern = "^[A-Za-z0-9_.-]{3,50}$";
    public const int MaxEmail = 254;

    public static Errors Username(this Errors errors, string? username)
    {
        if (username is null) errors.Add("username", "This field is required.");
        else if (!UsernameRegex().IsMatch(username)) errors.Add("username", "Must be 3 to 50 letters, digits, '_', '.' or '-'.");
        return errors;
    }

    public static Errors Email(this Errors errors, string? email, bool required)
    {
        if (email is null)
        {
            if (required) errors.Add("email", "This field is required.");
        }
        else if (email.Length > MaxEmail || email.IndexOf('@') is < 1 or > 64 || !EmailRegex().IsMatch(email))
            errors.Add("email", "Must be an email address such as name@example.com.");
        return errors;
    }

    /// <summary>Null or empty means "generate one"; anything else must pass the password rule for the account.</summary>
    public static Errors OptionalPassword(this Errors errors, string? password, string? username, string? email)
    {
        if (!string.IsNullOrEmpty(password) && PasswordRules.Check(password, username, email) is { } problem) errors.Add("password", problem);
        return errors;
    }

    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    /// <summary>Empty (generate one) or at least <see cref="PasswordRules.MinLength"/> characters.</summary>
    public const string OptionalPasswordPattern = @"^$|^[\s\S]{12,}$";
    public const string TemporaryPasswordPattern = "^[A-HJ-NP-Za-km-z2-9]{16}$";

    /// <summary>A one-time password: 16 characters from 56 unambiguous ones (about 93 bits).</summary>
    public static string TemporaryPassword() => RandomNumberGenerator.GetString(Alphabet, 16);

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{3,50}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UsernameRegex();

    [GeneratedRegex(@"^[^@\s\p{C}""(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\z", RegexOptions.CultureInvariant)]
    private static partial Regex EmailRegex();
}
