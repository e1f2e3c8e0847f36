using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Events;
using Sanctum.Api.Tests.Postgres;

namespace Sanctum.Api.Tests.Events;

/// <summary>PostgreSQL: two instances on one database deliver each other's events, in the same order on both.</summary>
public sealed class TwoInstanceEventsTests
{
    [Test]
    public async Task EventsRaisedOnEitherInstanceReachStreamsOnBothInTheSameOrder()
    {
        if (!TestEngine.IsPostgres) Assert.Ignore("PostgreSQL only: run with SANCTUM_TEST_ENGINE=postgres (SQLite delivers in process).");
        using var pair = new TwoInstances();
        await pair.First.Services.GetRequiredService<PostgresEventRelay>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        await pair.Second.Services.GetRequiredService<PostgresEventRelay>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        var first = await pair.First.CreateAdminClientAsync();
        var second = await pair.Second.CreateAdminClientAsync();
        await using var onFirst = await EventStream.OpenOkAsync(first, "status,jobs");
        await using var onSecond = await EventStream.OpenOkAsync(second, "status,jobs");

        // A real change on the first instance reaches the second one's stream.
        var tool = "pg-" + Guid.NewGuid().ToString("N")[..8];
        (await first.PostAsJsonAsync("/api/tools", new { id = tool, name = "Both", category = "master", status = "Ready" })).EnsureSuccessStatusCode();
        (await first.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Degraded" })).EnsureSuccessStatusCode();
        var seen = await onSecond.NextAsync(e => e.Name == "status.changed" && e.Data.GetProperty("id").GetString() == tool);
        Assert.That(seen.Data.GetProperty("to").GetString(), Is.EqualTo("Degraded"));

        // Events raised on both at once: both streams read the same ids in the same order.
        var a = pair.First.Services.GetRequiredService<IEventPublisher>();
        var b = pair.Second.Services.GetRequiredService<IEventPublisher>();
        await Task.WhenAll(
            Task.Run(() => { for (var i = 0; i < 50; i++) a.Publish("jobs", "test.order", new { from = "first", i }); }),
            Task.Run(() => { for (var i = 0; i < 50; i++) b.Publish("jobs", "test.order", new { from = "second", i }); }));
        async Task<List<string>> OrderAsync(EventStream s)
        {
            var ids = new List<string>();
            while (ids.Count < 100) ids.Add((await s.NextAsync(e => e.Name == "test.order")).Id!);
            return ids;
        }
        var firstOrder = await OrderAsync(onFirst);
        Assert.That(await OrderAsync(onSecond), Is.EqualTo(firstOrder));

        // And a stream resumes on the other instance from an id it got on the first.
        (await first.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Off" })).EnsureSuccessStatusCode();
        await onFirst.NextAsync(e => e.Name == "status.changed" && e.Data.GetProperty("to").GetString() == "Off");
        await using var resumed = await EventStream.OpenOkAsync(second, "status,jobs", firstOrder[49]);
        var replay = new List<string>();
        while (replay.Count < 50) replay.Add((await resumed.NextAsync(e => e.Name == "test.order")).Id!);
        Assert.That(replay, Is.EqualTo(firstOrder[50..]));
    }
}
