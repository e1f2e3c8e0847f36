using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Sanctum.Api.Telemetry;

namespace Sanctum.Api.Tests.Signals;

/// <summary>The service's own counters, and the OpenTelemetry pipeline only when an OTLP endpoint is configured.</summary>
// Beside the other fixtures: every listener here takes only the instruments of its own host's IMeterFactory (the
// meters of hosts running at the same time share names, not factories), and no other fixture enables these instruments.
public class MetricsTests
{
    [Test]
    public async Task SignInsAreCountedByOutcomeAndCheckResultsByType()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var seen = new System.Collections.Concurrent.ConcurrentBag<(string Name, long Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SanctumMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            seen.Add((instrument.Name, value, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();

        var admin = await app.CreateAdminClientAsync();
        Assert.That(await SanctumApplication.LoginAsync(app.CreateClient(), "admin", "wrong-password"), Is.Null);
        using var up = new LoopbackServer();
        (await admin.PostAsJsonAsync("/api/tools", new { id = "metered", name = "M", category = "master" })).EnsureSuccessStatusCode();
        var instance = await (await admin.PostAsJsonAsync("/api/tools/metered/instances", new { health_check = new { type = "tcp", target = up.HostAndPort } })).JsonAsync();
        (await admin.PostAsync($"/api/tools/metered/instances/{instance.GetProperty("id").GetInt64()}/check", null)).EnsureSuccessStatusCode();

        Assert.That(seen.Where(m => m.Name == "sanctum.signins").Select(m => m.Tags), Does.Contain("outcome=succeeded").And.Contain("outcome=failed"));
        Assert.That(seen.Where(m => m.Name == "sanctum.health.checks").Select(m => m.Tags), Is.EqualTo(new[] { "type=tcp,outcome=ok" }));
    }

    [Test]
    public void WithoutAnOtlpEndpointNoMetricsPipelineRuns()
    {
        using var app = new SanctumApplication();
        Assert.That(app.Services.GetService<MeterProvider>(), Is.Null);
    }

    [Test]
    public void WithAnOtlpEndpointTheMetricsPipelineRuns()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?> { [TelemetrySetup.OtlpEndpointVariable] = "http://127.0.0.1:4317" });
        Assert.That(app.Services.GetService<MeterProvider>(), Is.Not.Null);
    }

    [Test]
    public async Task WithAnOtlpEndpointTheRequestDurationIsCollectedAndTheOtherPerRequestInstrumentsAreNot()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?> { [TelemetrySetup.OtlpEndpointVariable] = "http://127.0.0.1:4317" });
        (await app.CreateClient().GetAsync("/healthz")).EnsureSuccessStatusCode();
        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) => { lock (instruments) if (ReferenceEquals(instrument.Meter.Scope, factory)) instruments.Add(instrument); },
        };
        listener.Start();

        Assert.That(instruments.Single(i => i.Name == "http.server.request.duration").Enabled, Is.True);
        Assert.That(instruments.Select(i => i.Name), Does.Contain("aspnetcore.routing.match_attempts"));
        foreach (var name in TelemetrySetup.PerRequestExtras)
            Assert.That(instruments.Where(i => i.Name == name).Any(i => i.Enabled), Is.False, $"{name} is collected");
    }
}
