namespace Sanctum.Api.Infrastructure;

/// <summary>A list whose text items are at most <paramref name="maxLength"/> characters and, when given, one of <paramref name="values"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ItemsAttribute(int maxLength, params string[] values) : System.ComponentModel.DataAnnotations.ValidationAttribute
{
    public int MaxLength { get; } = maxLength;
    public string[] Values { get; } = values;

    protected override System.ComponentModel.DataAnnotations.ValidationResult? IsValid(object? value, System.ComponentModel.DataAnnotations.ValidationContext context)
    {
        if (value is not System.Collections.IEnumerable list || value is string) return System.ComponentModel.DataAnnotations.ValidationResult.Success;
        foreach (var item in list)
        {
            if (item is not string text) continue;
            if (Values.Length > 0 && !Values.Contains(text, StringComparer.Ordinal))
                return new System.ComponentModel.DataAnnotations.ValidationResult($"Each entry must be one of: {string.Join(", ", Values)}.");
            if (text.Length > MaxLength || FieldChecks.HasControl(text))
                return new System.ComponentModel.DataAnnotations.ValidationResult($"Each entry must be at most {MaxLength} characters, without control characters.");
        }
        return System.ComponentModel.DataAnnotations.ValidationResult.Success;
    }
}

/// <summary>A map of at most <paramref name="MaxCount"/> entries, each text value at most <paramref name="MaxValueLength"/> characters.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class EntriesAttribute(int maxCount, int maxValueLength) : Attribute
{
    public int MaxCount { get; } = maxCount;
    public int MaxValueLength { get; } = maxValueLength;
}
