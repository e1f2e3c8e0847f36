using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;
namespace Sanctum.Api.Users;

/// <summary>A row of <c>users</c> as the API may show it. It has no password_hash, so the hash cannot leak.</summary>
public record User
{
    public const string Columns = "id, username, email, role, status, last_login, must_change_password, failed_login_attempts, locked_until, permissions, created_at, updated_at";

    public long Id { get; init; }
    [MaxLength(50)]
    [RegularExpression(UserRules.UsernamePattern)]
    public required string Username { get; init; }
    [MaxLength(UserRules.MaxEmail)]
    [EmailAddress]
    public required string Email { get; init; }
    [OneOf(typeof(Roles))]
    public required string Role { get; init; }
    [OneOf(typeof(UserStatuses))]
    public required string Status { get; init; }
    public string? LastLogin { get; init; }
    public bool MustChangePassword { get; init; }
    public long FailedLoginAttempts { get; init; }
    public string? LockedUntil { get; init; }
    public System.Text.Json.Nodes.JsonNode? Permissions { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";
    public const string Viewer = "viewer";

    public static readonly string[] All = [Admin, User, Viewer];
}

public static class UserStatuses
{
    public const string Active = "active";
    public const string Inactive = "inactive";
    public const string Locked = "locked";

    public static readonly string[] All = [Active, Inactive, Locked];
}

/// <summary>A user as the users list shows it: with the ways they sign in.</summary>
public sealed record ListedUser : User
{
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public ListedUser(User user, UserFactors factors) : base(user) => Factors = factors;

    public UserFactors Factors { get; init; }
}

/// <summary>A user's second factors and linked single sign-on accounts (the issuers); an admin resets the factors with DELETE /api/users/{id}/2fa.</summary>
public sealed record UserFactors(bool Totp, int Passkeys,
    [property: MaxLength(10), Infrastructure.Items(500)] IReadOnlyList<string> Providers)
{
    public static readonly UserFactors None = new(false, 0, []);
}
