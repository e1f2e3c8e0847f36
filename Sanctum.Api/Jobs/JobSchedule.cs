using System.Globalization;
using Cronos;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Jobs;

/// <summary>
/// Job schedules: standard 5-field cron (minute hour day-of-month month day-of-week, parsed by Cronos) read in
/// <c>Sanctum:TimeZone</c> (UTC when unset), the next run, and a plain-language reading for people.
/// </summary>
public sealed class JobSchedule(IOptions<SanctumOptions> options)
{
    public const int MaxLength = 100;

    public TimeZoneInfo TimeZone { get; } = Zone(options.Value.TimeZone);

    public string TimeZoneName => TimeZone == TimeZoneInfo.Utc ? "UTC" : TimeZone.Id;

    /// <summary>The zone named by <paramref name="id"/> (IANA, e.g. Europe/Berlin), or UTC for none.</summary>
    public static TimeZoneInfo Zone(string? id) => string.IsNullOrWhiteSpace(id) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);

    public static bool IsKnownZone(string? id)
    {
        try { Zone(id); return true; }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException) { return false; }
    }

    /// <summary>Null when <paramref name="schedule"/> is a valid 5-field expression, else why not.</summary>
    public static string? Problem(string? schedule)
    {
        if (string.IsNullOrWhiteSpace(schedule)) return "This field is required.";
        if (schedule.Length > MaxLength) return $"Must be at most {MaxLength} characters.";
        if (schedule.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 5 && !schedule.TrimStart().StartsWith('@'))
            return "Must have 5 fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *' for 03:00 every day.";
        try
        {
            CronExpression.Parse(schedule.Trim(), CronFormat.Standard);
            return null;
        }
        catch (CronFormatException e)
        {
            return "Not a valid cron expression: " + e.Message;
        }
    }

    /// <summary>The first run strictly after <paramref name="after"/>, or null when the expression never fires again.</summary>
    public DateTimeOffset? Next(string schedule, DateTimeOffset after) =>
        CronExpression.Parse(schedule.Trim(), CronFormat.Standard).GetNextOccurrence(after, TimeZone)?.ToUniversalTime();

    /// <summary>"Every day at 03:00 (UTC)", "Every 15 minutes", ...; the expression itself when no simple reading fits.</summary>
    public string Describe(string schedule) => $"{Describe5(schedule.Trim())} ({TimeZoneName})";

    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    private static string Describe5(string schedule)
    {
        var macro = schedule switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            "@every_minute" => "* * * * *",
            _ => schedule,
        };
        var f = macro.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 5) return "cron " + schedule;
        var (minute, hour, dom, month, dow) = (f[0], f[1], f[2], f[3], f[4]);

        string? time = (minute, hour) switch
        {
            ("*", "*") => "every minute",
            _ when Step(minute) is { } n && hour == "*" => $"every {n} minutes",
            _ when Number(minute) is { } m && hour == "*" => m == 0 ? "every hour" : $"every hour at minute {m}",
            _ when Number(minute) is { } m && Step(hour) is { } n => $"every {n} hours at minute {m}",
            _ when Number(minute) is { } m && Numbers(hour) is { } hs => "at " + string.Join(", ", hs.Select(h => $"{h:00}:{m:00}")),
            _ => null,
        };
        if (time is null) return "cron " + schedule;

        string? days = (dom, month, dow) switch
        {
            ("*", "*", "*") => "every day",
            ("*", "*", "1-5") => "Monday to Friday",
            ("*", "*", _) when Numbers(dow) is { } ds && ds.All(d => d <= 7) => "on " + string.Join(", ", ds.Select(d => Days[d])),
            (_, "*", "*") when Numbers(dom) is { } ds => "on day " + string.Join(", ", ds) + " of every month",
            _ => null,
        };
        if (days is null) return "cron " + schedule;
        var text = time.StartsWith("every", StringComparison.Ordinal) && days == "every day" ? time : $"{days} {time}";
        return char.ToUpperInvariant(text[0]) + text[1..];
    }

    private static int? Number(string field) => int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static int? Step(string field) => field.StartsWith("*/", StringComparison.Ordinal) ? Number(field[2..]) : null;

    private static int[]? Numbers(string field)
    {
        var parts = field.Split(',').Select(Number).ToArray();
        return parts.All(p => p is not null) ? parts.Select(p => p!.Value).ToArray() : null;
    }
}
