using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using ModelContextProtocol;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Peers;

namespace Sanctum.Api.Smcp;

/// <summary>The body of POST /api/smcp/tools/{name}/call.</summary>
public sealed record ToolCallRequest
{
    /// <summary>The tool's arguments, a JSON object checked against its input schema (absent: {}).</summary>
    public JsonElement Arguments { get; init; }
    /// <summary>The instance to run it on; absent: the first Healthy instance that offers the tool.</summary>
    public long? InstanceId { get; init; }
}

/// <summary>What a tool run returned: the MCP content blocks as the server sent them.</summary>
public sealed record ToolCallResult(JsonNode Content, bool IsError, long DurationMs, long InstanceId);

/// <summary>One instance's refresh: whether its listing succeeded and how many tools it offers now.</summary>
public sealed record RefreshResult(
    long InstanceId, bool Ok, long LatencyMs, [property: MaxLength(HealthProbe.MaxError)] string? Error,
    [property: MaxLength(HealthProbe.MaxError)] string? Warning, int Tools);

/// <summary>The answer of POST /api/smcp/tools/refresh: one result per active instance, then the catalogue.</summary>
public sealed record RefreshReport(
    [property: MaxLength(SmcpCatalogue.MaxTools)] IReadOnlyList<RefreshResult> Results, [property: MaxLength(SmcpCatalogue.MaxTools)] IReadOnlyList<CatalogueTool> Items);

public static class SmcpApi
{
    public const int MaxToolName = 128;

    public static RouteGroupBuilder MapSmcp(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/smcp").WithTags("SMCP").WithRequestExamples(SmcpExamples.All).RequireReader();
        group.MapGet("/tools", List).WithName("ListSmcpTools")
            .WithSummary("The tools of every SMCP instance as last listed (once per instance); stale when the instance's last listing failed");
        group.MapPost("/tools/refresh", Refresh).WithName("RefreshSmcpTools").RequireAdmin()
            .WithSummary("List the tools of every active SMCP instance now (admin); an instance that fails keeps its old entries, marked stale");
        group.MapPost("/tools/{name}/call", Call).WithName("CallSmcpTool").RequireAdmin()
            .WithSummary("Run a tool (admin): arguments checked against its input schema (400 per field), run within the instance's timeout (504), audited")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout);
        group.MapGet("/plugins", Plugins).WithName("ListSmcpPlugins").RequireAdmin()
            .WithSummary("The plugins of every SMCP instance with a home folder (admin): each plugins/*/cli.py --describe checked against contract v1, with its commands or the exact problem");
        return group;
    }

    private static async Task<Ok<CatalogueList>> List(DbConnection db, CancellationToken cancellationToken) =>
        TypedResults.Ok(new CatalogueList(await SmcpCatalogue.ReadAsync(db, null, cancellationToken)));

    private static async Task<Ok<RefreshReport>> Refresh(SmcpCatalogue catalogue, Database database, CancellationToken cancellationToken)
    {
        var results = await catalogue.RefreshAllAsync(cancellationToken);
        await using var db = database.Open();
        var items = await SmcpCatalogue.ReadAsync(db, null, cancellationToken);
        return TypedResults.Ok(new RefreshReport(
            results.OrderBy(r => r.Key).Select(r => new RefreshResult(r.Key, r.Value.Ok, r.Value.LatencyMs, r.Value.Error, r.Value.Warning,
                items.Count(i => i.InstanceId == r.Key))).ToList(),
            items));
    }

    private static async Task<Results<Ok<ToolCallResult>, ValidationProblem, ProblemHttpResult>> Call(
        string name, ToolCallRequest body, Database database, Secrets secrets, SmcpClient client, AuditLog audit, HttpContext http,
        CancellationToken cancellationToken)
    {
        if (name.Length > MaxToolName) return Problems.Invalid("name", $"Must be at most {MaxToolName} characters.");
        var arguments = body.Arguments.ValueKind == JsonValueKind.Undefined ? JsonSerializer.SerializeToElement(new { }) : body.Arguments;
        if (body.InstanceId is <= 0) return Problems.Invalid("instance_id", "Must be a positive instance id.");

        SmcpEndpoint? endpoint = null;
        await using (var db = database.Open())
        {
            var offers = await db.QueryAsync<Offer>(new CommandDefinition($"""
                SELECT t.instance_id, t.input_schema, i.status, i.is_active FROM smcp_tools t JOIN tool_instances i ON i.id = t.instance_id
                WHERE t.name = @name AND (@instanceId IS NULL OR t.instance_id = @instanceId)
                ORDER BY t.instance_id
                """, new { name, instanceId = body.InstanceId }, cancellationToken: cancellationToken));
            var list = offers.AsList();
            if (list.Count == 0)
                return Problems.NotFound(body.InstanceId is { } id ? $"Tool '{name}' on instance {id}" : $"Tool '{name}' (refresh the catalogue if it is new)");
            var chosen = body.InstanceId is null ? list.FirstOrDefault(o => o.IsActive && o.Status == "Healthy") : list[0];
            if (chosen is null || !chosen.IsActive)
                return Problems.Conflict(body.InstanceId is null
                    ? $"No Healthy SMCP instance offers '{name}'; name an instance_id to try one anyway."
                    : $"Instance {body.InstanceId} is inactive.");
            var errors = ToolArguments.Check(chosen.InputSchema, arguments, new Errors());
            if (errors.Any) return Problems.Invalid(errors);
            endpoint = await SmcpEndpoint.FindAsync(db, secrets, chosen.InstanceId, cancellationToken);
            if (endpoint is null) return Problems.Conflict($"Instance {chosen.InstanceId} has no usable url in its config.");
        }

        var started = Stopwatch.GetTimestamp();
        var redacted = ToolArguments.Redacted(arguments);
        try
        {
            var result = await client.CallAsync(endpoint, name, ToolArguments.ToDictionary(arguments), endpoint.TimeoutMs, cancellationToken);
            var duration = SmcpClient.Since(started);
            var isError = result.IsError == true;
            audit.Record(new AuditEvent("smcp.tool.called", "smcp_tool", name,
                new { instance_id = endpoint.InstanceId, duration_ms = duration, is_error = isError, arguments = redacted }, isError ? "tool_error" : "ok"), http);
            var content = JsonSerializer.SerializeToNode(result.Content, McpJsonUtilities.DefaultOptions) ?? new JsonArray();
            return TypedResults.Ok(new ToolCallResult(content, isError, duration, endpoint.InstanceId));
        }
        catch (PeerFailure failure)
        {
            var duration = SmcpClient.Since(started);
            audit.Record(new AuditEvent("smcp.tool.called", "smcp_tool", name,
                new { instance_id = endpoint.InstanceId, duration_ms = duration, error = failure.Message, arguments = redacted },
                failure.TimedOut ? "timeout" : "failed"), http);
            return TypedResults.Problem(
                statusCode: failure.TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                title: failure.TimedOut ? "The tool did not answer in time" : "The SMCP instance failed",
                detail: $"Instance {endpoint.InstanceId}, tool '{name}': {failure.Message}.");
        }
    }

    private static async Task<Ok<PluginList>> Plugins(PluginRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(new PluginList(await registry.ListAsync(cancellationToken)));

    private sealed record Offer
    {
        public long InstanceId { get; init; }
        public required string InputSchema { get; init; }
        public required string Status { get; init; }
        public bool IsActive { get; init; }
    }
}
