using System.Collections;
using System.ComponentModel.DataAnnotations;

namespace Sanctum.Api.Infrastructure;

// The shape rules of the wire types, stated once: the framework's validation (AddValidation, HttpPipeline.cs) checks
// them before a handler runs and answers 400 with the field's JSON name, and Swashbuckle (with OpenApi/SchemaRules.cs)
// writes the same attribute into the schema. Null is always valid here: whether a field is required may depend on the
// operation (create or change), which the handler says with FieldChecks.Required.

/// <summary>
/// Text of at most <paramref name="maxLength"/> characters without control characters (tab and line breaks allowed);
/// <see cref="NotBlank"/> also refuses an empty or all-blank value (the schema's minLength 1).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class TextAttribute(int maxLength) : MaxLengthAttribute(maxLength)
{
    public bool NotBlank { get; init; }

    /// <summary>At least this many characters (the schema's minLength).</summary>
    public int Min { get; init; }

    /// <summary>No control character at all, not even a tab or line break (a name shown on one line).</summary>
    public bool SingleLine { get; init; }

    /// <summary>Any character may appear (a memory block's text): only the length is checked.</summary>
    public bool AllowControl { get; init; }

    protected override ValidationResult? IsValid(object? value, ValidationContext context)
    {
        if (value is not string text) return ValidationResult.Success;
        if (NotBlank && string.IsNullOrWhiteSpace(text)) return new ValidationResult("This field must not be empty.");
        if (text.Length > Length) return new ValidationResult($"This field must be at most {Length} characters.");
        if (text.Length < Min) return new ValidationResult($"This field must be at least {Min} characters.");
        if (SingleLine ? text.Any(char.IsControl) : !AllowControl && FieldChecks.HasControl(text)) return new ValidationResult("This field must not contain control characters.");
        return ValidationResult.Success;
    }
}

/// <summary>
/// A field every request of this type must hold (the schema's required list); text must not be blank unless
/// <see cref="RequiredAttribute.AllowEmptyStrings"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class RequiredFieldAttribute : RequiredAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is null ? new ValidationResult(ErrorMessage ?? "This field is required.")
        : !AllowEmptyStrings && value is string text && string.IsNullOrWhiteSpace(text) ? new ValidationResult("This field must not be empty.")
        : ValidationResult.Success;
}

/// <summary>A tool or agent id (<see cref="FieldChecks.SlugPattern"/>, the schema's pattern); with [Text(50)] for its maxLength.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class SlugAttribute() : RegularExpressionAttribute(FieldChecks.SlugPattern)
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is null || FieldChecks.IsSlug(value as string) ? ValidationResult.Success : new ValidationResult(FieldChecks.SlugMessage);
}

/// <summary>Text whose whole value matches <paramref name="pattern"/> (a trailing line break too), refused with <paramref name="message"/>.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PatternAttribute(string pattern, string message) : RegularExpressionAttribute(pattern)
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is null || IsValid(value) ? ValidationResult.Success : new ValidationResult(message);
}

/// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/> (the schema's minimum and maximum).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class BetweenAttribute(int minimum, int maximum) : RangeAttribute(minimum, maximum)
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context) =>
        value is null || IsValid(value) ? ValidationResult.Success : new ValidationResult($"Must be {Minimum} to {Maximum}.");
}

/// <summary>A list of at most <paramref name="maxCount"/> entries (the schema's maxItems), none of them null unless <see cref="AllowNulls"/>.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ListOfAttribute(int maxCount) : MaxLengthAttribute(maxCount)
{
    /// <summary>At least one entry (the schema's minItems 1).</summary>
    public bool NotEmpty { get; init; }

    /// <summary>A null entry is the handler's to report (by its index).</summary>
    public bool AllowNulls { get; init; }

    protected override ValidationResult? IsValid(object? value, ValidationContext context)
    {
        if (value is not ICollection list) return ValidationResult.Success;
        if (list.Count > Length || (NotEmpty && list.Count == 0))
            return new ValidationResult(NotEmpty ? $"Must hold 1 to {Length} entries." : $"Must hold at most {Length} entries.");
        if (!AllowNulls)
            foreach (var item in list)
                if (item is null) return new ValidationResult("Must not hold null.");
        return ValidationResult.Success;
    }
}
