using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Smcp;

/// <summary>
/// SMCP's plugin --describe contract, version 1, as our own rules: an object with a <c>commands</c> array; optional
/// <c>contract_version</c> (a string of major version 1) and <c>plugin</c> {name (non-empty), version, description};
/// each command {name matching ^[a-zA-Z0-9_-]+$, description (string), parameters: [{name (non-empty), type (one of
/// string, number, integer, boolean, array, object), description (string), required (boolean)}]}.
/// </summary>
public static partial class PluginContract
{
    public const string CommandNamePattern = "^[a-zA-Z0-9_-]+$";
    private static readonly string[] ParameterTypes = ["string", "number", "integer", "boolean", "array", "object"];

    /// <summary>Every problem, each with the path of the value at fault ("commands[2].name: does not match ..."); none when it conforms.</summary>
    public static List<string> Problems(JsonElement spec)
    {
        var problems = new List<string>();
        if (spec.ValueKind != JsonValueKind.Object) return ["the output is JSON but not an object"];

        if (spec.TryGetProperty("contract_version", out var version))
        {
            if (version.ValueKind != JsonValueKind.String) problems.Add("contract_version: must be a string such as \"1.0\"");
            else if (!MajorOne().IsMatch(version.GetString()!)) problems.Add($"contract_version: {version.GetString()} is not version 1 (1, 1.x or 1.x.y)");
        }
        if (spec.TryGetProperty("plugin", out var plugin))
        {
            if (plugin.ValueKind != JsonValueKind.Object) problems.Add("plugin: must be an object");
            else
            {
                if (plugin.TryGetProperty("name", out var name) && !NonEmpty(name)) problems.Add("plugin.name: must be a non-empty string");
                StringIfPresent(plugin, "version", "plugin.version", problems);
                StringIfPresent(plugin, "description", "plugin.description", problems);
            }
        }
        if (!spec.TryGetProperty("commands", out var commands)) { problems.Add("commands: is required"); return problems; }
        if (commands.ValueKind != JsonValueKind.Array) { problems.Add("commands: must be an array"); return problems; }

        var i = 0;
        foreach (var command in commands.EnumerateArray())
        {
            var at = $"commands[{i++}]";
            if (command.ValueKind != JsonValueKind.Object) { problems.Add($"{at}: must be an object"); continue; }
            if (!command.TryGetProperty("name", out var name)) problems.Add($"{at}.name: is required");
            else if (!NonEmpty(name)) problems.Add($"{at}.name: must be a non-empty string");
            else if (!CommandName().IsMatch(name.GetString()!)) problems.Add($"{at}.name: does not match {CommandNamePattern}");
            StringIfPresent(command, "description", $"{at}.description", problems);
            if (!command.TryGetProperty("parameters", out var parameters) || parameters.ValueKind == JsonValueKind.Null) continue;
            if (parameters.ValueKind != JsonValueKind.Array) { problems.Add($"{at}.parameters: must be an array"); continue; }
            var j = 0;
            foreach (var parameter in parameters.EnumerateArray())
            {
                var p = $"{at}.parameters[{j++}]";
                if (parameter.ValueKind != JsonValueKind.Object) { problems.Add($"{p}: must be an object"); continue; }
                if (!parameter.TryGetProperty("name", out var pname)) problems.Add($"{p}.name: is required");
                else if (!NonEmpty(pname)) problems.Add($"{p}.name: must be a non-empty string");
                if (parameter.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && ParameterTypes.Contains(type.GetString())))
                    problems.Add($"{p}.type: must be one of {string.Join(", ", ParameterTypes)}");
                if (parameter.TryGetProperty("required", out var required) && required.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    problems.Add($"{p}.required: must be true or false");
                StringIfPresent(parameter, "description", $"{p}.description", problems);
            }
        }
        return problems;
    }

    private static bool NonEmpty(JsonElement value) => value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString());

    private static void StringIfPresent(JsonElement owner, string name, string at, List<string> problems)
    {
        if (owner.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.String) problems.Add($"{at}: must be a string");
    }

    [GeneratedRegex(@"^[a-zA-Z0-9_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex CommandName();

    [GeneratedRegex(@"^1(\.[0-9]+){0,2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex MajorOne();
}
