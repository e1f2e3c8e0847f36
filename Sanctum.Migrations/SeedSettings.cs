namespace Sanctum.Migrations;

/// <summary>
/// What the seed needs from the host. Migrations get it through dependency injection;
/// a runner that registers none gets the defaults of the plan (admin / admin123, bcrypt cost 12).
/// </summary>
public sealed class SeedSettings
{
    public string AdminPassword { get; init; } = "admin123";

    /// <summary>When set, stored as the admin's password_hash instead of hashing <see cref="AdminPassword"/>: the host
    /// uses a placeholder that no password matches and sets the real password once it knows where it listens.</summary>
    public string? AdminPasswordHash { get; init; }
    public int BcryptWorkFactor { get; init; } = 12;
}
