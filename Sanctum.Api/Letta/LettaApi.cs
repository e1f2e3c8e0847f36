using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Letta;

/// <summary>
/// The Letta link as last tested (table peer_links, row letta): kept so System Settings shows the last success even
/// when the latest test failed.
/// </summary>
public sealed record LettaStatus
{
    public const string Columns = "configured, last_checked_at, last_ok, last_success_at, version, latency_ms, error";

    /// <summary>Whether letta_server_url is set to an http(s) URL.</summary>
    public bool Configured { get; init; }
    public string? LastCheckedAt { get; init; }
    public bool? LastOk { get; init; }
    public string? LastSuccessAt { get; init; }
    /// <summary>The Letta server's version from its last successful health call.</summary>
    [MaxLength(100)]
    public string? Version { get; init; }
    public long? LatencyMs { get; init; }
    [MaxLength(HealthProbe.MaxError)]
    public string? Error { get; init; }
}

/// <summary>A Letta agent as its list shows it.</summary>
public sealed record LettaAgentSummary(
    [property: MaxLength(200)] string Id, [property: MaxLength(500)] string? Name, [property: MaxLength(200)] string? Model,
    [property: MaxLength(200)] string? LinkedAgentId);

/// <summary>A page of Letta's agents; <c>next_after</c> is the cursor for the next page (Letta's own <c>after</c>), null at the end.</summary>
public sealed record LettaAgentPage([property: MaxLength(LettaApi.MaxPage)] IReadOnlyList<LettaAgentSummary> Items, [property: MaxLength(200)] string? NextAfter);

public static class LettaApi
{
    public const int MaxPage = 100;

    public static RouteGroupBuilder MapLetta(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/letta").WithTags("Letta").RequireReader();
        group.MapGet("/status", Status).WithName("GetLettaStatus").WithSummary("The Letta link as last tested: last success, version, latency");
        group.MapPost("/test", Test).WithName("TestLetta").RequireAdmin()
            .WithSummary("Call Letta's /v1/health/ now with the system settings letta_server_url and letta_server_password (admin) and keep the result")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/agents", Agents).WithName("ListLettaAgents").RequireAdmin()
            .WithSummary("One page of Letta's agents (admin), through Letta's own paging: limit and the after cursor")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);
        return group;
    }

    private static async Task<Ok<LettaStatus>> Status(DbConnection db, LettaClient letta, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ReadStatusAsync(db, letta.Link() is not null, cancellationToken));

    private static async Task<LettaStatus> ReadStatusAsync(DbConnection db, bool configured, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<LettaStatus>(new CommandDefinition(
            "SELECT TRUE AS configured, last_checked_at, last_ok, last_success_at, version, latency_ms, error FROM peer_links WHERE peer = 'letta'",
            cancellationToken: cancellationToken)) ?? new LettaStatus()) with { Configured = configured };

    private static async Task<Results<Ok<LettaStatus>, ProblemHttpResult>> Test(LettaHealth health, Database database, CancellationToken cancellationToken)
    {
        var result = await health.CheckAsync(cancellationToken);
        if (result is null) return Problems.Conflict($"Set the system setting {LettaClient.UrlKey} to Letta's http(s) URL first.");
        await using var db = database.Open();
        return TypedResults.Ok(await ReadStatusAsync(db, true, cancellationToken));
    }

    private static async Task<Results<Ok<LettaAgentPage>, ValidationProblem, ProblemHttpResult>> Agents(
        LettaClient letta, DbConnection db, CancellationToken cancellationToken, int? limit = null, string? after = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxPage) errors.Add("limit", $"Must be from 1 to {MaxPage}.");
        if (after is not null && (after.Length is 0 or > 200 || after.Any(char.IsControl))) errors.Add("after", "Must be a Letta agent id (1-200 characters).");
        if (errors.Any) return Problems.Invalid(errors);
        if (letta.Link() is not { } link) return Problems.Conflict($"Set the system setting {LettaClient.UrlKey} to Letta's http(s) URL first.");
        var size = limit ?? 50;
        var query = $"/v1/agents/?limit={size}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
        JsonElement page;
        try
        {
            page = await letta.SendAsync(link, HttpMethod.Get, query, null, link.Timeout, cancellationToken);
        }
        catch (LettaFailure failure)
        {
            return TypedResults.Problem(statusCode: failure.Message.StartsWith("timed out", StringComparison.Ordinal) ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                title: "Letta did not answer as expected", detail: $"Letta: {failure.Message}.");
        }
        var agents = page.ValueKind == JsonValueKind.Array ? page.EnumerateArray().Take(size).ToList() : [];
        var ids = agents.Select(a => Text(a, "id")).OfType<string>().ToList();
        var linked = (await db.QueryAsync<(string LettaUid, string Id)>(new CommandDefinition(
            "SELECT letta_uid, id FROM agents WHERE letta_uid IS NOT NULL", cancellationToken: cancellationToken)))
            .Where(r => ids.Contains(r.LettaUid)).ToDictionary(r => r.LettaUid, r => r.Id);
        var items = agents.Where(a => Text(a, "id") is not null).Select(a => new LettaAgentSummary(
            Text(a, "id")!, Text(a, "name"),
            Text(a, "model") ?? (a.TryGetProperty("llm_config", out var llm) && llm.ValueKind == JsonValueKind.Object ? Text(llm, "model") : null),
            linked.GetValueOrDefault(Text(a, "id")!))).ToList();
        return TypedResults.Ok(new LettaAgentPage(items, items.Count == size ? items[^1].Id : null));
    }

    private static string? Text(JsonElement owner, string name) =>
        owner.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>Letta's health call, kept in peer_links; also the <c>letta</c> health check type.</summary>
public sealed class LettaHealth(LettaClient letta, Database database, TimeProvider clock) : IPeerProbe
{
    public string Type => "letta";

    /// <summary>Calls /v1/health/ and keeps the outcome; null when Letta is not configured.</summary>
    public async Task<ProbeResult?> CheckAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        if (letta.Link() is not { } link) return null;
        var started = Stopwatch.GetTimestamp();
        ProbeResult result;
        string? version = null;
        try
        {
            var health = await letta.SendAsync(link, HttpMethod.Get, "/v1/health/", null, timeout ?? link.Timeout, cancellationToken);
            version = health.ValueKind == JsonValueKind.Object && health.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            result = new ProbeResult(true, LettaClient.Since(started), null);
        }
        catch (LettaFailure failure)
        {
            result = new ProbeResult(false, LettaClient.Since(started), HealthProbe.Clip(failure.Message), Off: failure.Off);
        }
        var now = Timestamp.From(clock.GetUtcNow());
        await using var db = database.Open();
        await db.ExecuteAsync(new CommandDefinition("""
            INSERT INTO peer_links (peer, last_checked_at, last_ok, last_success_at, version, latency_ms, error)
            VALUES ('letta', @now, @ok, CASE WHEN @ok THEN @now END, @version, @latency, @error)
            ON CONFLICT (peer) DO UPDATE SET last_checked_at = excluded.last_checked_at, last_ok = excluded.last_ok,
                last_success_at = coalesce(excluded.last_success_at, peer_links.last_success_at),
                version = coalesce(excluded.version, peer_links.version), latency_ms = excluded.latency_ms, error = excluded.error
            """, new { now, ok = result.Ok, version = version is { Length: > 100 } ? version[..100] : version, latency = result.LatencyMs, error = result.Error },
            cancellationToken: CancellationToken.None));
        return result;
    }

    async Task<ProbeResult> IPeerProbe.RunAsync(long instanceId, CancellationToken cancellationToken) =>
        await CheckAsync(cancellationToken, Timeout.InfiniteTimeSpan)
        ?? new ProbeResult(false, 0, $"The system setting {LettaClient.UrlKey} is not an http(s) URL.", Off: true);
}

public static class LettaSetup
{
    public static IServiceCollection AddLetta(this IServiceCollection services)
    {
        services.AddSingleton<LettaClient>();
        services.AddSingleton<LettaHealth>();
        services.AddSingleton<IPeerProbe>(sp => sp.GetRequiredService<LettaHealth>());
        return services;
    }
}
