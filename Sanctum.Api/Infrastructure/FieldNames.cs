using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// The framework's validation names a field by its C# path ("HealthCheck.IntervalSeconds", "To[0]"); the wire and every
/// handler use the JSON (snake_case) names. Only keys shaped as such a path (PascalCase members, no '_' or '-') are
/// renamed, segment by segment: the handlers' keys are snake_case, and those holding a client's own names (a Broca
/// .env's QUEUE_REFRESH, params.keep) are left as they are.
/// </summary>
public static partial class FieldNames
{
    public static void ToWireNames(IDictionary<string, string[]> errors)
    {
        foreach (var key in errors.Keys.Where(k => MemberPath().IsMatch(k)).ToList())
        {
            var wire = Member().Replace(key, m => JsonNamingPolicy.SnakeCaseLower.ConvertName(m.Value));
            var messages = errors[key];
            errors.Remove(key);
            errors[wire] = errors.TryGetValue(wire, out var present) ? [.. present, .. messages] : messages;
        }
    }

    // Each segment a PascalCase member (a capital, then at least one lower-case letter somewhere), with list indexes.
    [GeneratedRegex(@"^(?=[A-Z][A-Za-z0-9]*[a-z])[A-Z][A-Za-z0-9]*(\[\d+\])*(\.(?=[A-Z][A-Za-z0-9]*[a-z])[A-Z][A-Za-z0-9]*(\[\d+\])*)*\z")]
    private static partial Regex MemberPath();

    [GeneratedRegex("[A-Za-z][A-Za-z0-9]*")]
    private static partial Regex Member();
}
