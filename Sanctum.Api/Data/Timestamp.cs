using System.Globalization;

namespace Sanctum.Api.Data;

/// <summary>The schema's one timestamp form: ISO-8601 UTC with whole seconds, e.g. 2026-11-24T10:15:00Z.</summary>
public static class Timestamp
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public static string From(DateTimeOffset time) => time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static string Now(TimeProvider clock) => From(clock.GetUtcNow());

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
