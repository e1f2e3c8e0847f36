using System.Text.RegularExpressions;

namespace Sanctum.Api.Infrastructure;

/// <summary>The field rules the management endpoints share, written onto an <see cref="Errors"/>.</summary>
public static partial class FieldChecks
{
    /// <summary>Tool and agent ids: lower-case letters, digits and dashes, starting with a letter or digit.</summary>
    public const string SlugPattern = "^[a-z0-9][a-z0-9-]{0,49}$";

    /// <summary>
    /// Text that has no tighter rule: it arrived in a request body, so it is at most the body limit long
    /// (Sanctum:MaxRequestBodyBytes, 1 MiB by default).
    /// </summary>
    public const int MaxText = 1024 * 1024;

    public static bool IsSlug(string? value) => value is not null && Slug().IsMatch(value);

    /// <summary>Text of at most <paramref name="max"/> characters; when required it must be present and not blank.</summary>
    public static Errors Text(this Errors errors, string field, string? value, int max, bool required = false)
    {
        if (value is null)
        {
            if (required) errors.Add(field, "This field is required.");
        }
        else if (required && string.IsNullOrWhiteSpace(value)) errors.Add(field, "This field must not be empty.");
        else if (value.Length > max) errors.Add(field, $"This field must be at most {max} characters.");
        else if (HasControl(value)) errors.Add(field, "This field must not contain control characters.");
        return errors;
    }

    /// <summary>
    /// A field the operation needs (a create, where a change may leave it out): present and, for text, not blank. Its
    /// shape is the wire type's attribute, which the framework checked before the handler ran.
    /// </summary>
    public static Errors Required(this Errors errors, string field, object? value, string? what = null)
    {
        if (value is null) errors.Add(field, what is null ? "This field is required." : $"This field is required: {what}.");
        else if (value is string text && string.IsNullOrWhiteSpace(text)) errors.Add(field, "This field must not be empty.");
        return errors;
    }

    public static bool HasControl(string value) => value.Any(c => char.IsControl(c) && c is not '\n' and not '\r' and not '\t');

    public const string SlugMessage = "Must be 1 to 50 lower-case letters, digits or dashes, starting with a letter or digit.";

    /// <summary>An optional value that, when present, must be one of <paramref name="allowed"/> (exact case).</summary>
    public static Errors OneOf(this Errors errors, string field, string? value, IReadOnlyCollection<string> allowed, bool required = false)
    {
        if (value is null)
        {
            if (required) errors.Add(field, $"This field is required: one of {string.Join(", ", allowed)}.");
        }
        else if (!allowed.Contains(value)) errors.Add(field, $"Must be one of: {string.Join(", ", allowed)}.");
        return errors;
    }

    // \z, not $: $ would also accept a trailing newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,49}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();
}
