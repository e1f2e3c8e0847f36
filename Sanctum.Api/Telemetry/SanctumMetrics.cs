using System.Diagnostics.Metrics;

namespace Sanctum.Api.Telemetry;

/// <summary>
/// The service's own counters, on the meter <c>Sanctum.Api</c> (exported with the ASP.NET Core and runtime metrics
/// when OTEL_EXPORTER_OTLP_ENDPOINT is set). Tags are small fixed sets, never user input, so series stay few.
/// </summary>
public sealed class SanctumMetrics
{
    public const string MeterName = "Sanctum.Api";

    private readonly Counter<long> _signIns, _lockouts, _bridgeMessages, _relayPolls, _jobRuns, _checks;
    private readonly Histogram<double> _checkLatency, _peerCalls;

    public SanctumMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _signIns = meter.CreateCounter<long>("sanctum.signins", "{sign-in}", "Sign-in attempts by outcome (succeeded, failed, locked)");
        _lockouts = meter.CreateCounter<long>("sanctum.lockouts", "{lockout}", "Accounts locked after too many failed sign-ins");
        _bridgeMessages = meter.CreateCounter<long>("sanctum.bridge.messages", "{message}", "Chat bridge messages by direction (in: from the web, out: replies)");
        _relayPolls = meter.CreateCounter<long>("sanctum.relay.polls", "{poll}", "Relay polls of the chat bridge inbox");
        _jobRuns = meter.CreateCounter<long>("sanctum.job.runs", "{run}", "Scheduled job runs by kind and outcome (ok, failed, skipped)");
        _checks = meter.CreateCounter<long>("sanctum.health.checks", "{check}", "Health check probes by type and outcome (ok, failed)");
        _checkLatency = meter.CreateHistogram<double>("sanctum.health.check.duration", "ms", "Health check probe latency");
        _peerCalls = meter.CreateHistogram<double>("sanctum.peer.call.duration", "ms", "Outbound calls to peers (smcp, letta) by outcome (ok, http_4xx, http_5xx, timeout, refused, circuit_open)");
    }

    public void SignIn(string outcome) => _signIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Lockout() => _lockouts.Add(1);

    /// <param name="direction"><c>in</c> (a web user's message) or <c>out</c> (a reply).</param>
    public void BridgeMessage(string direction, long count = 1) => _bridgeMessages.Add(count, new KeyValuePair<string, object?>("direction", direction));

    public void RelayPoll() => _relayPolls.Add(1);

    public void JobRun(string kind, string outcome) =>
        _jobRuns.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void CheckResult(string type, bool ok, double latencyMilliseconds)
    {
        var typeTag = new KeyValuePair<string, object?>("type", type);
        _checks.Add(1, typeTag, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));
        _checkLatency.Record(latencyMilliseconds, typeTag);
    }

    /// <param name="peer"><c>smcp</c> or <c>letta</c>.</param>
    /// <param name="outcome">ok, http_4xx, http_5xx, timeout, refused or circuit_open.</param>
    public void PeerCall(string peer, string outcome, double milliseconds) =>
        _peerCalls.Record(milliseconds, new KeyValuePair<string, object?>("peer", peer), new KeyValuePair<string, object?>("outcome", outcome));
}
