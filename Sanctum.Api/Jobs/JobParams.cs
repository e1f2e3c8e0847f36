using System.Text.Json;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs;

/// <summary>Reading a job's params object, for the kinds' <see cref="IJobKind.Validate"/> and <see cref="IJobKind.RunAsync"/>.</summary>
public static class JobParams
{
    /// <summary>
    /// The whole number <paramref name="name"/> in <paramref name="min"/>..<paramref name="max"/>; when absent,
    /// <paramref name="fallback"/> (null: required). Adds an error keyed <c>params.name</c> and returns null when invalid.
    /// </summary>
    public static int? Int(JsonElement parameters, string name, int min, int max, int? fallback, Errors? errors = null)
    {
        if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (fallback is null) errors?.Add($"params.{name}", "This field is required.");
            return fallback;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max) return n;
        errors?.Add($"params.{name}", $"Must be a whole number from {min} to {max}.");
        return null;
    }

    /// <summary>Adds an error for every property but <paramref name="known"/> (a typo should not be silently ignored).</summary>
    public static void OnlyKnown(JsonElement parameters, Errors errors, params string[] known)
    {
        if (parameters.ValueKind != JsonValueKind.Object) return;
        foreach (var property in parameters.EnumerateObject())
            if (!known.Contains(property.Name, StringComparer.Ordinal))
                errors.Add($"params.{property.Name}", known.Length == 0 ? "This kind takes no params." : $"Unknown; this kind takes {string.Join(", ", known)}.");
    }
}
