using System.Text.Json;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Plugins;

/// <summary>
/// The dependency rules: a plugin may depend only on other plugins of its own tool, and the tool's dependency
/// graph may never contain a cycle (a → a, a → b → a, a → b → c → a, ...).
/// </summary>
public static class PluginDependencies
{
    public const int MaxCount = 100;

    /// <summary>
    /// Checks <paramref name="dependencies"/> of the plugin called <paramref name="name"/> against the tool's other
    /// plugins (<paramref name="others"/>: name → dependencies, without the plugin being written) and adds what is
    /// wrong to <paramref name="errors"/> under "dependencies".
    /// </summary>
    public static void Check(string toolId, string name, IReadOnlyList<string?> dependencies,
        IReadOnlyDictionary<string, IReadOnlyList<string>> others, Errors errors)
    {
        const string field = "dependencies";
        if (dependencies.Count > MaxCount)
        {
            errors.Add(field, $"A plugin may have at most {MaxCount} dependencies.");
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dependency in dependencies)
        {
            if (string.IsNullOrWhiteSpace(dependency)) errors.Add(field, "Each dependency must be a plugin name.");
            else if (dependency == name) errors.Add(field, $"Plugin '{name}' cannot depend on itself (a cycle).");
            else if (!seen.Add(dependency)) errors.Add(field, $"'{dependency}' is listed more than once.");
            else if (!others.ContainsKey(dependency))
                errors.Add(field, $"'{dependency}' is not a plugin of tool '{toolId}'; dependencies must name plugins of the same tool.");
        }
        if (errors.Has(field)) return;

        var graph = new Dictionary<string, IReadOnlyList<string>>(others, StringComparer.Ordinal) { [name] = dependencies.Select(d => d!).ToList() };
        if (FindCycle(graph, startAt: name) is { } cycle)
            errors.Add(field, $"These dependencies would form a cycle: {string.Join(" → ", cycle)}.");
    }

    /// <summary>
    /// A cycle of the whole graph as a path that ends where it starts (a, b, c, a), or null when there is none. The
    /// search begins at <paramref name="startAt"/>, so a cycle through the plugin being written is told from it.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, IReadOnlyList<string>> graph, string? startAt = null)
    {
        // Iterative depth-first search: white = unvisited, grey = on the current path, black = done.
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false = grey, true = black
        var starts = graph.Keys.Order(StringComparer.Ordinal).Prepend(startAt).OfType<string>().Where(graph.ContainsKey);
        foreach (var start in starts)
        {
            if (state.ContainsKey(start)) continue;
            var path = new List<string> { start };
            var next = new Stack<IEnumerator<string>>();
            state[start] = false;
            next.Push(Targets(graph, start).GetEnumerator());
            while (next.Count > 0)
            {
                if (!next.Peek().MoveNext())
                {
                    next.Pop();
                    state[path[^1]] = true;
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                var target = next.Peek().Current;
                if (state.TryGetValue(target, out var done))
                {
                    if (!done) return [.. path.Skip(path.IndexOf(target)), target];
                    continue;
                }
                state[target] = false;
                path.Add(target);
                next.Push(Targets(graph, target).GetEnumerator());
            }
        }
        return null;
    }

    /// <summary>Names in a stored dependencies column (a JSON array); anything else reads as none.</summary>
    public static IReadOnlyList<string> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Array
                ? document.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    // Names that are not plugins of the tool (rows arranged outside the API) lead nowhere.
    private static IEnumerable<string> Targets(IReadOnlyDictionary<string, IReadOnlyList<string>> graph, string name) =>
        graph.TryGetValue(name, out var targets) ? targets.Where(graph.ContainsKey) : [];
}
