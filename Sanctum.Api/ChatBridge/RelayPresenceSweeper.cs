using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Data;
using Sanctum.Api.Health;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// Brings agents' stored status in line with relay presence: a poll makes an agent Healthy at once (the inbox calls
/// <see cref="RelayPresence.Sync"/>), and this sweep notices when the polls stop (Degraded once the window runs out)
/// within a quarter of the window (at most 15 s).
/// </summary>
public sealed partial class RelayPresenceSweeper(
    Database database, StatusWriter status, TimeProvider clock, IOptions<ChatBridgeOptions> options, ILogger<RelayPresenceSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.RelayWindowSeconds / 4, 1, 15));
        using var timer = new PeriodicTimer(period, clock);
        try
        {
            do
            {
                try { await SweepAsync(); }
                catch (Exception e) when (e is DbException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(logger, e);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One sweep; returns how many agents' status it wrote.</summary>
    public async Task<int> SweepAsync()
    {
        await using var db = await database.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var written = await RelayPresence.SyncAsync(db, tx, status, clock.GetUtcNow(), options.Value.RelayWindowSeconds);
        await tx.CommitAsync();
        status.Committed(tx);
        return written;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay presence sweep failed; the next one retries.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
