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

    private static readonly string[] IsoForms =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd",
    ];

    /// <summary>
    /// An ISO-8601 time in the stored form: Z, an offset, or none meaning UTC (SQLite's CURRENT_TIMESTAMP and
    /// datetime('now') write UTC without a zone); a space may stand for the T; fractions are dropped.
    /// </summary>
    public static bool TryNormalize(string? text, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrWhiteSpace(text)
            || !DateTimeOffset.TryParseExact(text.Trim(), IsoForms, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return false;
        normalized = From(time);
        return true;
    }
}
