namespace Sanctum.Migrations;

/// <summary>
/// What the seed needs from the host. Migrations get it through dependency injection;
/// a runner that registers none gets the defaults of the plan (admin / admin123, bcrypt cost 12).
/// </summary>
public sealed class SeedSettings
{
    public string AdminPassword { get; init; } = "admin123";
    public int BcryptWorkFactor { get; init; } = 12;
}
