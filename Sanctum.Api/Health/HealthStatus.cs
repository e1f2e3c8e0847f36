namespace Sanctum.Api.Health;

/// <summary>The status labels of tools, tool instances and agents (set through <see cref="StatusWriter"/>).</summary>
public static class HealthStatus
{
    public static readonly string[] All = ["Healthy", "Degraded", "Off", "Ready"];
}
