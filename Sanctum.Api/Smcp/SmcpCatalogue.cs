using System.Data.Common;
using System.Diagnostics;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Dapper;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Peers;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Smcp;

/// <summary>One tool of the catalogue: as an instance offered it at its last successful listing.</summary>
public sealed record CatalogueTool
{
    public const string Columns = "name, description, input_schema, plugin, instance_id, stale, listed_at";

    [MaxLength(SmcpApi.MaxToolName)]
    public required string Name { get; init; }
    [MaxLength(SmcpCatalogue.MaxDescription)]
    public string? Description { get; init; }
    /// <summary>The tool's input JSON Schema, as the server listed it.</summary>
    public required JsonNode InputSchema { get; init; }
    /// <summary>The SMCP plugin behind the tool (the part of the name before <c>__</c>), or null for the server's own tools.</summary>
    [MaxLength(SmcpApi.MaxToolName)]
    public string? Plugin { get; init; }
    public long InstanceId { get; init; }
    /// <summary>True when the instance's last listing failed: this is what it offered before.</summary>
    public bool Stale { get; init; }
    public required string ListedAt { get; init; }
}

/// <summary>Envelope of GET /api/smcp/tools.</summary>
public sealed record CatalogueList([property: MaxLength(SmcpCatalogue.MaxTools)] IReadOnlyList<CatalogueTool> Items);

/// <summary>
/// The tools catalogue (table smcp_tools): replaced by each successful listing of an instance, marked stale by a failed
/// one, read by the pages and the tool runs. Listings come from the <c>mcp</c> health check and from refresh.
/// </summary>
public sealed class SmcpCatalogue(Database database, SmcpClient client, Secrets secrets, TimeProvider clock)
{
    public const int MaxDescription = 2_000;
    /// <summary>The most tools kept per instance, and so listed per instance.</summary>
    public const int MaxTools = 10_000;

    public static async Task<List<CatalogueTool>> ReadAsync(DbConnection db, string? name, CancellationToken cancellationToken) =>
        (await db.QueryAsync<CatalogueTool>(new CommandDefinition($"""
            SELECT {CatalogueTool.Columns} FROM smcp_tools WHERE @name IS NULL OR name = @name ORDER BY name, instance_id
            """, new { name }, cancellationToken: cancellationToken))).AsList();

    /// <summary>Lists instance <paramref name="endpoint"/>'s tools and stores them, or marks its entries stale; the outcome as a probe result.</summary>
    public async Task<ProbeResult> RefreshAsync(SmcpEndpoint endpoint, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var listing = await client.ListAsync(endpoint, cancellationToken);
            await StoreAsync(endpoint.InstanceId, listing.Tools, cancellationToken);
            return new ProbeResult(true, SmcpClient.Since(started), null, listing.HealthProblem);
        }
        catch (PeerFailure failure)
        {
            await using var db = database.Open();
            await db.ExecuteAsync(new CommandDefinition("UPDATE smcp_tools SET stale = TRUE WHERE instance_id = @id AND stale = FALSE",
                new { id = endpoint.InstanceId }, cancellationToken: CancellationToken.None));
            return new ProbeResult(false, SmcpClient.Since(started), HealthProbe.Clip(failure.Message), Off: failure.Off);
        }
    }

    /// <summary>Refreshes every active instance; the results by instance id.</summary>
    public async Task<Dictionary<long, ProbeResult>> RefreshAllAsync(CancellationToken cancellationToken)
    {
        List<SmcpEndpoint> endpoints;
        await using (var db = database.Open()) endpoints = await SmcpEndpoint.ActiveAsync(db, secrets, cancellationToken);
        var results = await Task.WhenAll(endpoints.Select(async e => (e.InstanceId, Result: await RefreshAsync(e, cancellationToken))));
        return results.ToDictionary(r => r.InstanceId, r => r.Result);
    }

    private async Task StoreAsync(long instanceId, IReadOnlyList<ListedTool> tools, CancellationToken cancellationToken)
    {
        var now = Timestamp.From(clock.GetUtcNow());
        await using var db = database.Open();
        await using var tx = await db.BeginTransactionAsync(cancellationToken);
        // The instance may have been deleted while it was listed: then there is nothing to keep.
        if (!await db.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM tool_instances WHERE id = @instanceId)",
                new { instanceId }, tx, cancellationToken: cancellationToken)))
            return;
        await db.ExecuteAsync(new CommandDefinition("DELETE FROM smcp_tools WHERE instance_id = @instanceId", new { instanceId }, tx, cancellationToken: cancellationToken));
        foreach (var tool in tools.DistinctBy(t => t.Name).Where(t => t.Name.Length <= SmcpApi.MaxToolName).Take(MaxTools))
            await db.ExecuteAsync(new CommandDefinition("""
                INSERT INTO smcp_tools (instance_id, name, description, input_schema, plugin, listed_at, stale)
                VALUES (@instanceId, @name, @description, @schema, @plugin, @now, FALSE)
                """,
                new
                {
                    instanceId, name = tool.Name, now, schema = tool.InputSchema.GetRawText(),
                    description = tool.Description is { Length: > MaxDescription } d ? d[..MaxDescription] : tool.Description,
                    plugin = PluginOf(tool.Name),
                }, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>SMCP names a plugin's command tools <c>plugin__command</c>.</summary>
    public static string? PluginOf(string name) => name.IndexOf("__", StringComparison.Ordinal) is > 0 and var i ? name[..i] : null;
}

/// <summary>The <c>mcp</c> health check: a listing of the instance, which also refreshes the catalogue.</summary>
public sealed class SmcpProbe(Database database, Secrets secrets, SmcpCatalogue catalogue) : IPeerProbe
{
    public string Type => "mcp";

    public async Task<ProbeResult> RunAsync(long instanceId, CancellationToken cancellationToken)
    {
        SmcpEndpoint? endpoint;
        await using (var db = database.Open()) endpoint = await SmcpEndpoint.FindAsync(db, secrets, instanceId, cancellationToken);
        return endpoint is null
            ? new ProbeResult(false, 0, "Not an SMCP instance with a config url (an mcp check belongs to an instance of the smcp tool).", Off: true)
            : await catalogue.RefreshAsync(endpoint, cancellationToken);
    }
}
