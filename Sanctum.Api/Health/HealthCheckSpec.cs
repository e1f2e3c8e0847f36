using System.Text.Json;
using System.Text.Json.Serialization;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Health;

/// <summary>
/// A tool instance's health check, stored as JSON in <c>tool_instances.health_check</c>: an HTTP GET that must answer
/// <c>expect_status</c> (any 2xx or 3xx when absent), a TCP connect to host:port, an MCP session with the SMCP
/// instance itself (<c>mcp</c>: initialize and list its tools), Letta's health call (<c>letta</c>, at the system
/// settings' letta_server_url) or a look at an agent's Broca queue (<c>broca</c>, target its folder; no network),
/// every <c>interval_seconds</c>, failing after <c>timeout_ms</c>.
/// </summary>
public sealed record HealthCheckSpec
{
    public const int MinInterval = 10, MaxInterval = 86_400, DefaultInterval = 60;
    public const int MinTimeout = 50, MaxTimeout = 60_000, DefaultTimeout = 5_000;
    public const int MaxTarget = 2_000;
    public static readonly string[] Types = ["http", "tcp", "broca", "mcp", "letta"];
    public const int DefaultPendingFactor = 10, MaxPendingFactor = 1000;
    /// <summary>Types whose target is their instance or the system settings, not a field of the check.</summary>
    public static readonly string[] Targetless = ["mcp", "letta"];

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public required string Type { get; init; }
    /// <summary>An http(s) URL for http, host:port for tcp; none for mcp and letta.</summary>
    public string? Target { get; init; }
    public int IntervalSeconds { get; init; } = DefaultInterval;
    public int TimeoutMs { get; init; } = DefaultTimeout;
    public int? ExpectStatus { get; init; }
    /// <summary>broca: Degraded once the oldest pending item waits longer than queue_refresh times this (default 10).</summary>
    public int? PendingFactor { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static HealthCheckSpec FromJson(string json) => JsonSerializer.Deserialize<HealthCheckSpec>(json, Json)!;

    /// <summary>For tcp: the host and port of the target (checked by <see cref="Read"/>).</summary>
    public (string Host, int Port) HostAndPort()
    {
        var colon = Target!.LastIndexOf(':');
        return (Target[..colon].Trim('[', ']'), int.Parse(Target[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Reads the <c>health_check</c> field of a write: absent (Undefined) leaves the check as it is, null removes it,
    /// an object sets it. Errors are keyed <c>health_check.&lt;field&gt;</c>; on any error the result is null.
    /// </summary>
    public static HealthCheckSpec? Read(JsonElement value, Errors errors)
    {
        const string field = "health_check";
        if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(field, "Must be an object {type, target, interval_seconds, timeout_ms, expect_status} or null to remove the check.");
            return null;
        }
        string? type = null, target = null;
        int interval = DefaultInterval, timeout = DefaultTimeout;
        int? expect = null, factor = null;
        var failed = false;
        foreach (var p in value.EnumerateObject())
        {
            var name = $"{field}.{p.Name}";
            switch (p.Name)
            {
                case "type": type = Text(p.Value, name); break;
                case "target": target = Text(p.Value, name); break;
                case "interval_seconds": interval = Number(p.Value, name, MinInterval, MaxInterval) ?? interval; break;
                case "timeout_ms": timeout = Number(p.Value, name, MinTimeout, MaxTimeout) ?? timeout; break;
                case "expect_status": expect = p.Value.ValueKind == JsonValueKind.Null ? null : Number(p.Value, name, 100, 599); break;
                case "pending_factor": factor = p.Value.ValueKind == JsonValueKind.Null ? null : Number(p.Value, name, 1, MaxPendingFactor); break;
                default: Fail(name, "Unknown field: a check has type, target, interval_seconds, timeout_ms, expect_status and pending_factor."); break;
            }
        }

        if (type is null) Fail($"{field}.type", "This field is required: http, tcp, broca, mcp or letta.");
        else if (!Types.Contains(type)) Fail($"{field}.type", "Must be one of: http, tcp, broca, mcp, letta.");
        if (type is not null && Targetless.Contains(type))
        {
            if (target is not null) Fail($"{field}.target", $"A {type} check has no target: it checks {(type == "mcp" ? "the instance's own url" : "the system setting letta_server_url")}.");
        }
        else if (target is null) Fail($"{field}.target", "This field is required: a URL for http, host:port for tcp, the Broca folder for broca.");
        else if (target.Length > MaxTarget) Fail($"{field}.target", $"Must be at most {MaxTarget} characters.");
        else if (type == "http" && !(Uri.TryCreate(target, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            Fail($"{field}.target", "Must be an absolute http:// or https:// URL.");
        else if (type == "tcp" && !IsHostAndPort(target)) Fail($"{field}.target", "Must be host:port with a port from 1 to 65535.");
        else if (type == "broca" && !Path.IsPathFullyQualified(target)) Fail($"{field}.target", "Must be the Broca folder, an absolute path.");
        if (type != "http" && expect is not null) Fail($"{field}.expect_status", "Only an http check expects a status.");
        if (type != "broca" && factor is not null) Fail($"{field}.pending_factor", "Only a broca check has a pending factor.");
        if (timeout >= interval * 1000) Fail($"{field}.timeout_ms", "Must be shorter than the interval.");

        return failed ? null : new HealthCheckSpec { Type = type!, Target = target, IntervalSeconds = interval, TimeoutMs = timeout, ExpectStatus = expect, PendingFactor = factor };

        void Fail(string name, string message) { errors.Add(name, message); failed = true; }

        string? Text(JsonElement v, string name)
        {
            if (v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())) return v.GetString();
            Fail(name, "Must be a non-empty string.");
            return null;
        }

        int? Number(JsonElement v, string name, int min, int max)
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= min && n <= max) return n;
            Fail(name, $"Must be a whole number from {min} to {max}.");
            return null;
        }
    }

    private static bool IsHostAndPort(string target)
    {
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || colon == target.Length - 1) return false;
        var host = target[..colon];
        return int.TryParse(target[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
               && port is >= 1 and <= 65535
               && Uri.CheckHostName(host.Trim('[', ']')) != UriHostNameType.Unknown;
    }
}
