using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Signals;

/// <summary>The background runner: due checks run by themselves, at most Concurrency at once.</summary>
public class HealthCheckRunnerTests
{
    [Test]
    public async Task TheRunnerProbesDueChecksWithBoundedConcurrency()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:HealthChecks:PollInterval"] = "00:00:00.200",
            ["Sanctum:HealthChecks:Concurrency"] = "2",
            ["Sanctum:HealthChecks:DegradedLatencyMs"] = "5000",
        });
        var admin = await app.CreateAdminClientAsync();
        using var slow = new LoopbackServer(200, TimeSpan.FromMilliseconds(300));
        var tool = "runner-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Runner", category = "master" })).EnsureSuccessStatusCode();
        for (var i = 0; i < 6; i++)
            (await admin.PostAsJsonAsync($"/api/tools/{tool}/instances",
                new { name = $"n{i}", health_check = new { type = "http", target = slow.Url, interval_seconds = 3600, timeout_ms = 3000 } }))
                .EnsureSuccessStatusCode();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonElement instances;
        do
        {
            await Task.Delay(200);
            instances = await admin.GetFromJsonAsync<JsonElement>($"/api/tools/{tool}/instances");
        } while (instances.EnumerateArray().Any(i => i.GetProperty("status").GetString() != "Healthy") && DateTime.UtcNow < deadline);

        Assert.That(instances.EnumerateArray().Select(i => i.GetProperty("status").GetString()), Is.All.EqualTo("Healthy"));
        Assert.That(slow.Served, Is.EqualTo(6), "each due check ran once; the next is an hour away");
        Assert.That(slow.MaxOpen, Is.EqualTo(2), "six 300 ms probes with Concurrency 2");
    }
}
