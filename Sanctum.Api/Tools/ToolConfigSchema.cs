using System.Text.Json;
using Json.Schema;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Tools;

/// <summary>A tool's config_schema (JSON Schema) and the check of its instances' config against it, with JsonSchema.Net.</summary>
public static class ToolConfigSchema
{
    /// <summary>The schema, or null with the reason in <paramref name="errors"/> when the text is not a usable JSON Schema.</summary>
    public static JsonSchema? Build(string text, Errors errors, string field = "config_schema")
    {
        try
        {
            // A registry of its own, so tools whose schemas share an $id do not collide in the global one.
            return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception e) when (e is JsonSchemaException or JsonException or RefResolutionException or ArgumentException or InvalidOperationException)
        {
            errors.Add(field, $"Not a usable JSON Schema: {e.Message}");
            return null;
        }
    }

    /// <summary>Adds an error per failed constraint of <paramref name="config"/>, keyed config plus the JSON Pointer of the value (config/port).</summary>
    public static Errors Check(string schemaText, JsonElement config, Errors errors)
    {
        if (Build(schemaText, new Errors()) is not { } schema) return errors; // a broken stored schema checks nothing
        var results = schema.Evaluate(config, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return errors;
        var found = false;
        foreach (var detail in results.Details ?? [])
            foreach (var (keyword, message) in detail.Errors ?? new Dictionary<string, string>())
            {
                errors.Add("config" + detail.InstanceLocation, $"{message} ({keyword})");
                found = true;
            }
        if (!found) errors.Add("config", "The config does not match the tool's config_schema.");
        return errors;
    }
}
