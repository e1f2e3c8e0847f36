using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sanctum.Api.Data;

namespace Sanctum.Api.Health;

/// <summary>
/// /readyz is unhealthy while the database cannot grow: the disk under the data directory has less than
/// <see cref="MinFreeBytes"/> free, or SQLite may not add pages (its page limit is reached). Writes meanwhile answer
/// 503 with Retry-After (Infrastructure/ProblemExceptionHandler.cs); both recover by themselves once space is back.
/// Also while the data directory has become read-only since the start (a remount, a changed mode): the start refuses
/// that state, and a running server should not look ready in it either. (Not the database file: opening and closing
/// it here would drop SQLite's own locks on it, see <see cref="ReadOnlyProbe.Find"/>.)
/// </summary>
public sealed class DiskSpaceCheck(Database database) : IHealthCheck
{
    public const long MinFreeBytes = 1024 * 1024;
    private const long MinFreePages = 16;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (ReadOnlyProbe.FindDirectory(database) is { } readOnly)
                return Task.FromResult(HealthCheckResult.Unhealthy($"{readOnly} is read-only: writes fail until it is writable again."));
            // The PostgreSQL server watches its own disk; the data directory still holds the key ring and backups.
            if (database.IsSqlite)
            {
                using var connection = database.OpenSqlite();
                var pages = connection.QuerySingle<(long Max, long Count, long Free)>(
                    "SELECT (SELECT max_page_count FROM pragma_max_page_count), (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count)");
                if (pages.Max - pages.Count + pages.Free < MinFreePages)
                    return Task.FromResult(HealthCheckResult.Unhealthy("The database has reached its size limit: writes are refused until space is freed."));
            }
            var free = new DriveInfo(database.DataDirectory).AvailableFreeSpace;
            return Task.FromResult(free < MinFreeBytes
                ? HealthCheckResult.Unhealthy($"The disk under {database.DataDirectory} is full ({free} bytes free): writes are refused until space is freed.")
                : HealthCheckResult.Healthy());
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or ArgumentException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The free space could not be measured.", e));
        }
    }
}
