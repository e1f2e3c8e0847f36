using System.Reflection;
using System.Text.Json.Nodes;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// The property takes one of these strings (exact case): the values given, or those of a static string[] field of a
/// type. Shown as the schema's enum (OpenApi/SchemaRules.cs) and checked by the framework's validation on request types.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class OneOfAttribute : System.ComponentModel.DataAnnotations.ValidationAttribute
{
    private readonly string[] _values;

    public OneOfAttribute(Type source, string field = "All") =>
        _values = (string[])source.GetField(field, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    public OneOfAttribute(params string[] values) => _values = values;

    public IList<JsonNode> Nodes() => _values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();

    protected override System.ComponentModel.DataAnnotations.ValidationResult? IsValid(object? value, System.ComponentModel.DataAnnotations.ValidationContext context) =>
        value is null || (value is string text && _values.Contains(text, StringComparer.Ordinal))
            ? System.ComponentModel.DataAnnotations.ValidationResult.Success
            : new System.ComponentModel.DataAnnotations.ValidationResult($"Must be one of: {string.Join(", ", _values)}.");
}
