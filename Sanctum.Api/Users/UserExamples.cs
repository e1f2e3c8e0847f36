using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Users;

/// <summary>The user request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class UserExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(UserCreate)] = new UserCreate { Username = "jane.doe", Email = "jane@example.com", Role = "user" },
        [typeof(UserUpdate)] = new UserUpdate { Role = "viewer", Status = "active" },
        [typeof(PasswordReset)] = new PasswordReset { Password = "a-new-password-1" },
    };
}
