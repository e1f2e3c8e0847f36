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
    [Text(50), Pattern(UserRules.UsernamePattern, UserRules.UsernameMessage)]
    public string? Username { get; init; }
    /// <summary>Unique regardless of case.</summary>
    [Text(UserRules.MaxEmail), Mailbox]
    public string? Email { get; init; }
    /// <summary>admin, user (default) or viewer.</summary>
    [OneOf(typeof(Roles))]
    public string? Role { get; init; }
    /// <summary>At least 12 characters, not the username or email, not a common password. Absent or empty: a temporary password is generated, returned once, and must be changed at first sign-in.</summary>
    [Text(PasswordHasher.MaxBytes, AllowControl = true), Pattern(UserRules.OptionalPasswordPattern, UserRules.OptionalPasswordMessage)]
    public string? Password { get; init; }
}

/// <summary>The body of PATCH /api/users/{id}: the fields present and non-null change.</summary>
public sealed record UserUpdate
{
    [Text(UserRules.MaxEmail), Mailbox]
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
    [Text(PasswordHasher.MaxBytes, AllowControl = true), Pattern(UserRules.OptionalPasswordPattern, UserRules.OptionalPasswordMessage)]
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

/// <summary>An email address (<see cref="UserRules.IsEmail"/>); the schema's format: email.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MailboxAttribute() : DataTypeAttribute(DataType.EmailAddress)
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is null || (value is string text && UserRules.IsEmail(text)) ? ValidationResult.Success
            : new ValidationResult("Must be an email address such as name@example.com.");
}

public static partial class UserRules
{
    public const string UsernamePattern = "^[A-Za-z0-9_.-]{3,50}$";
    public const int MaxEmail = 254;

    public const string UsernameMessage = "Must be 3 to 50 letters, digits, '_', '.' or '-'.";

    /// <summary>An address this server can send to: a local part of 1 to 64 characters and a domain of DNS labels.</summary>
    public static bool IsUsername(string? username) => username is not null && UsernameRegex().IsMatch(username);

    public static bool IsEmail(string? email) => email is not null && IsEmailText(email);

    private static bool IsEmailText(string email) => email.Length <= MaxEmail && email.IndexOf('@') is >= 1 and <= 64 && EmailRegex().IsMatch(email);

    /// <summary>Null or empty means "generate one"; anything else must pass the password rule for the account.</summary>
    public static Errors OptionalPassword(this Errors errors, string? password, string? username, string? email)
    {
        if (!string.IsNullOrEmpty(password) && PasswordRules.Check(password, username, email) is { } problem) errors.Add("password", problem);
        return errors;
    }

    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    /// <summary>Empty (generate one) or at least <see cref="PasswordRules.MinLength"/> characters.</summary>
    public const string OptionalPasswordPattern = @"^$|^[\s\S]{12,}$";
    public const string OptionalPasswordMessage = "Must be empty (a temporary password is generated) or at least 12 characters.";
    public const string TemporaryPasswordPattern = "^[A-HJ-NP-Za-km-z2-9]{16}$";

    /// <summary>A one-time password: 16 characters from 56 unambiguous ones (about 93 bits).</summary>
    public static string TemporaryPassword() => RandomNumberGenerator.GetString(Alphabet, 16);

    [GeneratedRegex(@"^[A-Za-z0-9_.-]{3,50}\z", RegexOptions.CultureInvariant)]
    private static partial Regex UsernameRegex();

    [GeneratedRegex(@"^[^@\s\p{C}""(),:;<>\[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\z", RegexOptions.CultureInvariant)]
    private static partial Regex EmailRegex();
}
