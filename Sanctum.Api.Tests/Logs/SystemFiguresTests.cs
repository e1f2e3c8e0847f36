using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Status;

namespace Sanctum.Api.Tests.Logs;

/// <summary>GET /api/status/system: host, process and disk figures with an in-memory history.</summary>
public class SystemFiguresTests
{
    [Test]
    public async Task TheFiguresDescribeThisHostAndProcessWithAHistory()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:System:LowDiskBytes"] = long.MaxValue.ToString() });
        var viewer = await app.CreateClientForRoleAsync("viewer");
        var figures = app.Services.GetRequiredService<SystemFigures>();
        figures.Sample();
        figures.Sample();

        var system = await viewer.GetFromJsonAsync<JsonElement>("/api/status/system");
        Assert.That(system.GetProperty("cpu_percent").GetDouble(), Is.InRange(0, 100));
        Assert.That(system.GetProperty("load_average").GetArrayLength(), Is.EqualTo(3));
        var memory = system.GetProperty("memory");
        Assert.That(memory.GetProperty("total_bytes").GetInt64(), Is.GreaterThan(memory.GetProperty("available_bytes").GetInt64()));
        var process = system.GetProperty("process");
        Assert.That(process.GetProperty("working_set_bytes").GetInt64(), Is.GreaterThan(10_000_000));
        Assert.That(process.GetProperty("gc_heap_bytes").GetInt64(), Is.GreaterThan(0));
        Assert.That(process.GetProperty("threads").GetInt32(), Is.GreaterThan(1));
        var disk = system.GetProperty("disk");
        Assert.That(disk.GetProperty("path").GetString(), Is.EqualTo(Path.GetFullPath(app.DataDirectory)));
        Assert.That(disk.GetProperty("total_bytes").GetInt64(), Is.GreaterThanOrEqualTo(disk.GetProperty("free_bytes").GetInt64()));
        Assert.That(disk.GetProperty("low").GetBoolean(), "below long.MaxValue bytes free");
        Assert.That(system.GetProperty("uptime_seconds").GetInt64(), Is.GreaterThanOrEqualTo(0));
        Assert.That(system.GetProperty("sample_interval_seconds").GetInt64(), Is.EqualTo(15));
        Assert.That(system.GetProperty("history").GetArrayLength(), Is.GreaterThanOrEqualTo(3), "the start-up sample and two more");
    }

    [Test]
    public async Task TheHistoryKeepsOnlyItsLength()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:System:SampleInterval"] = "00:15:00", ["Sanctum:System:HistoryLength"] = "01:00:00",
        });
        var viewer = await app.CreateClientForRoleAsync("viewer");
        var figures = app.Services.GetRequiredService<SystemFigures>();
        for (var i = 0; i < 10; i++) figures.Sample();
        Assert.That((await viewer.GetFromJsonAsync<JsonElement>("/api/status/system")).GetProperty("history").GetArrayLength(), Is.EqualTo(4));
    }
}
