using System.Reflection;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using System.Security.Claims;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;

namespace Sanctum.Api.Status;

public static class StatusApi
{
    public static readonly string Version =
        typeof(StatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static RouteGroupBuilder MapStatus(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/status").WithTags("Status").RequireReader();
        group.MapGet("/", Get).WithName("GetStatus")
            .WithSummary("Overall health aggregated from the tools and agents tables");
        group.MapGet("/system", (SystemFigures figures) => TypedResults.Ok(figures.Report())).WithName("GetSystemFigures")
            .WithSummary("Host CPU, load and memory, this process's memory and threads, the data directory's disk (low below Sanctum:System:LowDiskBytes), uptime, and the last hour sampled every 15 s");
        return group;
    }

    private const string CountsSql = """
        SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE {0}) AS on_count,
               COUNT(*) FILTER (WHERE status = 'Healthy') AS healthy, COUNT(*) FILTER (WHERE status = 'Degraded') AS degraded,
               COUNT(*) FILTER (WHERE status = 'Off') AS off, COUNT(*) FILTER (WHERE status = 'Ready') AS ready
        FROM {1}
        """;

    private static readonly string ToolCountsSql = string.Format(CountsSql, "is_enabled", "tools");
    private static readonly string AgentCountsSql = string.Format(CountsSql, "is_active", "agents");

    // Only what the caller may see: tools in the category of a hidden agent, and hidden agents, are left out.
    private static readonly string AttentionSql = $"""
        SELECT 'tool' AS kind, id, name, status FROM tools
        WHERE is_enabled = TRUE AND status NOT IN ('Healthy', 'Ready') AND {AgentVisibility.Visible("category")}
        UNION ALL
        SELECT 'agent', id, name, status FROM agents
        WHERE is_active = TRUE AND status NOT IN ('Healthy', 'Ready') AND {AgentVisibility.Where}
        ORDER BY kind DESC, id
        """;

    private static async Task<Ok<SystemStatus>> Get(DbConnection db, ResultCache cache, TimeProvider clock, StartTime started, ClaimsPrincipal user)
    {
        // Everything but the clock comes from the database, cached per viewer until the next commit.
        var stored = await cache.GetAsync(new StoredStatus(AgentVisibility.ViewerOf(user)), key => LoadAsync(db, key.Viewer));
        var now = clock.GetUtcNow();
        return TypedResults.Ok(stored with
        {
            Timestamp = Timestamp.From(now),
            UptimeSeconds = (long)(now - started.At).TotalSeconds,
        });
    }

    private static async Task<SystemStatus> LoadAsync(DbConnection db, AgentVisibility.Viewer viewer)
    {
        var tools = await db.QuerySingleAsync<Counts>(ToolCountsSql);
        var agents = await db.QuerySingleAsync<Counts>(AgentCountsSql);
        var attention = (await db.QueryAsync<AttentionItem>(AttentionSql, viewer.Parameters())).AsList();
        var schema = await db.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(\"Version\"), 0) FROM \"VersionInfo\"");
        return new SystemStatus(
            attention.Count == 0 ? "Healthy" : "Degraded", Version, Timestamp: "", UptimeSeconds: 0,
            new DatabaseStatus("Healthy", schema),
            new ToolCounts(tools.Total, tools.OnCount, tools.ByStatus()),
            new AgentCounts(agents.Total, agents.OnCount, agents.ByStatus()),
            attention);
    }

    /// <summary>Cache key: the status as one viewer sees it (the attention list is filtered by visibility).</summary>
    private sealed record StoredStatus(AgentVisibility.Viewer Viewer);

    private sealed record Counts
    {
        public long Total { get; init; }
        public long OnCount { get; init; }
        public long Healthy { get; init; }
        public long Degraded { get; init; }
        public long Off { get; init; }
        public long Ready { get; init; }

        public IReadOnlyDictionary<string, long> ByStatus() =>
            new Dictionary<string, long> { ["Healthy"] = Healthy, ["Degraded"] = Degraded, ["Off"] = Off, ["Ready"] = Ready };
    }
}

/// <summary>When this process started serving, for uptime.</summary>
public sealed record StartTime(DateTimeOffset At);
