using Sanctum.Api.Data;

namespace Sanctum.Api.Tests.Signals;

/// <summary>Status histories written straight into the database, with times in the past.</summary>
public static class StatusArrange
{
    /// <summary>
    /// A new tool whose health check found it Healthy since 30 h ago and Off for the last 6 h: 75 % of the last 24 h,
    /// 80 % of the last 48 (a check measures it, so it has an availability figure).
    /// </summary>
    public static void ToolHealthyThenOff(System.Data.Common.DbConnection db, string tool, string name)
    {
        var now = DateTimeOffset.UtcNow;
        db.Execute("INSERT INTO tools (id, name, category, status, status_source, status_since) VALUES (@tool, @name, 'master', 'Healthy', 'check', @at)",
            new { tool, name, at = Timestamp.From(now.AddHours(-30)) });
        db.Execute("UPDATE tools SET status = 'Off', status_since = @at WHERE id = @tool", new { tool, at = Timestamp.From(now.AddHours(-6)) });
    }
}
