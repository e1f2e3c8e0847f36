using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Smcp;

/// <summary>
/// Where and how to reach one SMCP instance: tool_instances.config {url, home, timeout_ms} of a <c>smcp</c> instance,
/// and its key, the instance configuration <c>api_key</c> (encrypted at rest by the settings core, decrypted here only
/// to send it).
/// </summary>
public sealed record SmcpEndpoint(long InstanceId, Uri Url, string? ApiKey, string? Home, int TimeoutMs, string Status)
{
    public const string ToolId = "smcp", KeyName = "api_key";
    public const int DefaultTimeoutMs = 10_000;

    /// <summary>The active SMCP instances, by id.</summary>
    public static async Task<List<SmcpEndpoint>> ActiveAsync(DbConnection db, Secrets secrets, CancellationToken cancellationToken) =>
        await ReadAsync(db, secrets, "i.is_active = TRUE", null, cancellationToken);

    /// <summary>One SMCP instance (active or not), or null when there is none with that id or its config has no usable url.</summary>
    public static async Task<SmcpEndpoint?> FindAsync(DbConnection db, Secrets secrets, long instanceId, CancellationToken cancellationToken) =>
        (await ReadAsync(db, secrets, "i.id = @instanceId", instanceId, cancellationToken)).FirstOrDefault();

    private static async Task<List<SmcpEndpoint>> ReadAsync(DbConnection db, Secrets secrets, string where, long? instanceId, CancellationToken cancellationToken)
    {
        var rows = await db.QueryAsync<Row>(new CommandDefinition($"""
            SELECT i.id, i.config, i.status, c.value AS key_value, c.is_encrypted AS key_encrypted
            FROM tool_instances i
            LEFT JOIN configurations c ON c.scope = 'instance' AND c.scope_id = CAST(i.id AS TEXT) AND c.key = '{KeyName}'
            WHERE i.tool_id = '{ToolId}' AND {where}
            ORDER BY i.id
            """, new { instanceId }, cancellationToken: cancellationToken));
        var found = new List<SmcpEndpoint>();
        foreach (var row in rows)
        {
            if (Parse(row) is { } endpoint) found.Add(endpoint with { ApiKey = Key(row, secrets) });
        }
        return found;
    }

    private static SmcpEndpoint? Parse(Row row)
    {
        if (row.Config is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(row.Config);
            var config = doc.RootElement;
            if (!config.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String
                || !Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                return null;
            var home = config.TryGetProperty("home", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
            var timeout = config.TryGetProperty("timeout_ms", out var t) && t.TryGetInt32(out var ms) ? ms : DefaultTimeoutMs;
            return new SmcpEndpoint(row.Id, uri, null, home, timeout, row.Status);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Key(Row row, Secrets secrets) =>
        string.IsNullOrEmpty(row.KeyValue) ? null : row.KeyEncrypted ? secrets.Unprotect(row.KeyValue) : row.KeyValue;

    public string Id => InstanceId.ToString(CultureInfo.InvariantCulture);

    private sealed record Row
    {
        public long Id { get; init; }
        public string? Config { get; init; }
        public required string Status { get; init; }
        public string? KeyValue { get; init; }
        public bool KeyEncrypted { get; init; }
    }
}
