using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>
/// The broca health check (no network): Healthy while Broca's database is readable and nothing pending waits too long;
/// Degraded when the oldest pending item waits longer than queue_refresh x pending_factor or items failed in the last
/// hour; Off when the folder or the database is gone. The reason names the figures ("12 pending, oldest 14 min").
/// </summary>
public sealed class BrocaQueueCheck(BrocaDatabase databases, TimeProvider clock)
{
    public const int DefaultQueueRefresh = 5;

    public async Task<ProbeResult> RunAsync(HealthCheckSpec check, Stopwatch watch, CancellationToken cancellationToken)
    {
        var home = new AgentHome("", check.Target!, HomeState.Found);
        if (!Directory.Exists(check.Target)) return Off($"The Broca folder {check.Target} is gone.");
        if (!File.Exists(home.File(BrocaHome.DatabaseFile))) return Off($"Broca's database {home.File(BrocaHome.DatabaseFile)} is gone.");
        try
        {
            var refresh = await QueueRefreshAsync(home, cancellationToken);
            var stats = await databases.QueueStatsAsync(home, clock.GetUtcNow(), cancellationToken);
            var pending = stats.Counts.GetValueOrDefault("pending");
            var limit = (long)refresh * (check.PendingFactor ?? HealthCheckSpec.DefaultPendingFactor);
            var reason = new StringBuilder($"{pending} pending");
            if (stats.OldestPendingSeconds is { } age) reason.Append($", oldest {Age(age)}");
            if (stats.FailedLastHour > 0) reason.Append($", {stats.FailedLastHour} failed in the last hour");
            var late = stats.OldestPendingSeconds > limit;
            if (late) reason.Append($" (over {Age(limit)})");
            var status = late || stats.FailedLastHour > 0 ? "Degraded" : "Healthy";
            return new ProbeResult(true, watch.ElapsedMilliseconds, null, Status: status, Reason: reason.Append('.').ToString());
        }
        catch (Exception e) when (BrocaDatabase.Explain(e, home) is { } unavailable)
        {
            var busy = unavailable.Status == StatusCodes.Status503ServiceUnavailable;
            var message = Cut(unavailable.Message);
            return busy
                ? new ProbeResult(true, watch.ElapsedMilliseconds, null, Status: "Degraded", Reason: message)
                : new ProbeResult(false, watch.ElapsedMilliseconds, message, Status: "Off", Reason: message);
        }

        ProbeResult Off(string why) => new(false, watch.ElapsedMilliseconds, why, Status: "Off", Reason: why);
    }

    /// <summary>Broca's queue_refresh: QUEUE_REFRESH of .env over settings.json's, else Broca's default.</summary>
    private static async Task<int> QueueRefreshAsync(AgentHome home, CancellationToken cancellationToken)
    {
        var env = await InstanceFolder.ReadAsync(home.File(BrocaHome.EnvFile), cancellationToken);
        if (env is not null && BrocaEnvFile.Parse(Encoding.UTF8.GetString(env)).Variables.LastOrDefault(v => v.Key == "QUEUE_REFRESH").Value is { } text
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fromEnv) && fromEnv > 0) return fromEnv;
        var settings = await InstanceFolder.ReadAsync(home.File(BrocaHome.SettingsFile), cancellationToken);
        try
        {
            if (settings is not null && JsonDocument.Parse(settings).RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("queue_refresh", out var value) && value.TryGetInt32(out var fromFile) && fromFile > 0) return fromFile;
        }
        catch (JsonException)
        {
            // An unreadable settings.json leaves Broca's default; the settings API reports the file itself.
        }
        return DefaultQueueRefresh;
    }

    public static string Age(long seconds) => seconds switch
    {
        < 120 => $"{seconds} s",
        < 7200 => $"{seconds / 60} min",
        < 172800 => $"{seconds / 3600} h",
        _ => $"{seconds / 86400} d",
    };

    private static string Cut(string text) => text.Length > HealthProbe.MaxError ? text[..HealthProbe.MaxError] : text;
}
