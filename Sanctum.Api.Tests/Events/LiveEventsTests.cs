using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Events;

namespace Sanctum.Api.Tests.Events;

/// <summary>GET /api/events: delivery, replay, authorization per event, limits and slow readers.</summary>
[NonParallelizable]
public sealed class LiveEventsTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:Events:BufferSize"] = "16",
            ["Sanctum:Events:RecheckInterval"] = "00:00:00.2",
            ["Sanctum:Events:MaxStreamsPerUser"] = "4",
        });
        _admin = await _app.CreateAdminClientAsync();
    }

    [OneTimeTearDown]
    public async Task Stop() => await _app.DisposeAsync();

    private Task<HttpClient> ClientForRoleAsync(string role) => _app.CreateClientForRoleAsync(role);

    private static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> CreateToolAsync()
    {
        var tool = NewId("ev-");
        (await _admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Live", category = "master", status = "Ready" })).EnsureSuccessStatusCode();
        return tool;
    }

    private static bool About(ReadEvent e, string id) => e.Name == "status.changed" && e.Data.GetProperty("id").GetString() == id;

    [Test]
    public async Task AStatusChangeReachesEveryReadersStreamWithItsNewState()
    {
        var tool = await CreateToolAsync();
        var viewer = await ClientForRoleAsync("viewer");
        await using var stream = await EventStream.OpenOkAsync(viewer, "status");
        (await _admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Degraded" })).EnsureSuccessStatusCode();

        var e = await stream.NextAsync(e => About(e, tool));
        Assert.That(e.Id, Is.Not.Empty);
        Assert.That((e.Data.GetProperty("kind").GetString(), e.Data.GetProperty("from").GetString(), e.Data.GetProperty("to").GetString(),
            e.Data.GetProperty("source").GetString()), Is.EqualTo(("tool", "Ready", "Degraded", "manual")));
    }

    [Test]
    public async Task AReconnectWithLastEventIdReceivesEverythingItMissedInOrder()
    {
        var tool = await CreateToolAsync();
        string lastId;
        await using (var first = await EventStream.OpenOkAsync(_admin, "status"))
        {
            (await _admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Degraded" })).EnsureSuccessStatusCode();
            lastId = (await first.NextAsync(e => About(e, tool))).Id!;
        }
        string[] missed = ["Off", "Healthy", "Degraded", "Ready"];
        foreach (var status in missed) (await _admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status })).EnsureSuccessStatusCode();

        await using var again = await EventStream.OpenOkAsync(_admin, "status", lastId);
        var replayed = new List<string>();
        for (var i = 0; i < missed.Length; i++) replayed.Add((await again.NextAsync(e => About(e, tool))).Data.GetProperty("to").GetString()!);
        Assert.That(replayed, Is.EqualTo(missed));

        // An id no longer kept (or never seen): one reset event, then live events as usual.
        await using var stale = await EventStream.OpenOkAsync(_admin, "status", "gone-1");
        Assert.That((await stale.NextAsync()).Name, Is.EqualTo("reset"));
    }

    [Test]
    public async Task AViewersStreamNeverCarriesAHiddenAgentsEventEvenWhenTheAgentIsHiddenWhileItIsOpen()
    {
        var hidden = NewId("hid-");
        var shown = NewId("vis-");
        (await _admin.PostAsJsonAsync("/api/agents", new { id = hidden, name = "Hidden", status = "Healthy", visible_to_roles = new[] { "admin" } })).EnsureSuccessStatusCode();
        (await _admin.PostAsJsonAsync("/api/agents", new { id = shown, name = "Shown", status = "Healthy" })).EnsureSuccessStatusCode();
        var viewer = await ClientForRoleAsync("viewer");
        await using var viewers = await EventStream.OpenOkAsync(viewer, "status");
        await using var admins = await EventStream.OpenOkAsync(_admin, "status");

        (await _admin.PatchAsJsonAsync($"/api/agents/{hidden}", new { status = "Degraded" })).EnsureSuccessStatusCode();
        (await _admin.PatchAsJsonAsync($"/api/agents/{shown}", new { status = "Degraded" })).EnsureSuccessStatusCode();
        Assert.That((await admins.NextAsync(e => e.Name == "status.changed")).Data.GetProperty("id").GetString(), Is.EqualTo(hidden), "admins see both");
        Assert.That((await viewers.NextAsync(e => e.Name == "status.changed")).Data.GetProperty("id").GetString(), Is.EqualTo(shown));

        // The shown agent becomes hidden while the stream is open: its next change is not sent either.
        (await _admin.PatchAsJsonAsync($"/api/agents/{shown}", new { visible_to_roles = new[] { "admin" } })).EnsureSuccessStatusCode();
        (await _admin.PatchAsJsonAsync($"/api/agents/{shown}", new { status = "Off" })).EnsureSuccessStatusCode();
        var marker = await CreateToolAsync();
        (await _admin.PatchAsJsonAsync($"/api/tools/{marker}", new { status = "Off" })).EnsureSuccessStatusCode();
        var next = await viewers.NextAsync(e => e.Name == "status.changed");
        Assert.That(next.Data.GetProperty("id").GetString(), Is.EqualTo(marker), "the now hidden agent's change was left out");
    }

    [Test]
    public async Task ASlowReaderIsDroppedWhileOthersKeepReceiving()
    {
        var hub = _app.Services.GetRequiredService<EventHub>();
        var publisher = _app.Services.GetRequiredService<IEventPublisher>();
        var droppedBefore = hub.Dropped;
        await using var fast = await EventStream.OpenOkAsync(_admin, "jobs");

        // A client that opens its stream and never reads it: the response pipe, then the stream's buffer, fill up.
        var slowRequest = new HttpRequestMessage(HttpMethod.Get, "/api/events?topics=jobs");
        using var slow = await _admin.SendAsync(slowRequest, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(slow.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(hub.StreamCount, Is.EqualTo(2));
        var deadline = DateTime.UtcNow.AddSeconds(30);

        var padding = new string('x', 4000);
        var sent = 0;
        while (hub.Dropped == droppedBefore)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the slow reader was never dropped");
            for (var i = 0; i < 8; i++) publisher.Publish("jobs", "test.filler", new { n = ++sent, padding });
            var n = sent;
            await fast.NextAsync(e => e.Data.GetProperty("n").GetInt32() == n);
        }
        publisher.Publish("jobs", "test.after", new { n = -1 });
        Assert.That((await fast.NextAsync(e => e.Name == "test.after")).Name, Is.EqualTo("test.after"), "the fast reader goes on");
        // The dropped stream leaves the hub when its request ends, a moment after the drop.
        await hub.WaitForStreamCountAsync(n => n <= 1, TimeSpan.FromSeconds(10));
        Assert.That(hub.StreamCount, Is.EqualTo(1), "the slow one is gone");
    }

    [Test]
    public async Task ASignedOutSessionEndsItsStreamsWithinSeconds()
    {
        var user = await ClientForRoleAsync("user");
        var stream = await EventStream.OpenOkAsync(user, "status");
        (await user.PostAsync("/api/auth/logout", null)).EnsureSuccessStatusCode();
        Assert.That(await Task.WhenAny(stream.Closed, Task.Delay(TimeSpan.FromSeconds(5))), Is.SameAs(stream.Closed), "the stream stayed open");
        await stream.DisposeAsync();
        var (_, again) = await EventStream.OpenAsync(user, "status");
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task StreamsBeyondTheLimitGet503WithRetryAfter()
    {
        var user = await ClientForRoleAsync("user");
        var open = new List<EventStream>();
        for (var i = 0; i < 4; i++) open.Add(await EventStream.OpenOkAsync(user, "status"));
        var (refused, response) = await EventStream.OpenAsync(user, "status");
        Assert.That(refused, Is.Null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter, Is.Not.Null);
        await open[0].DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        EventStream? next = null;
        while (next is null && DateTime.UtcNow < deadline) (next, _) = await EventStream.OpenAsync(user, "status");
        Assert.That(next, Is.Not.Null, "a closed stream frees its place");
        foreach (var s in open.Skip(1).Append(next!)) await s.DisposeAsync();
    }

    [Test]
    public async Task UnknownAndAdminOnlyTopicsAreRefused()
    {
        var viewer = await ClientForRoleAsync("viewer");
        var (_, unknown) = await EventStream.OpenAsync(viewer, "status,nope");
        await unknown.AssertProblemAsync(HttpStatusCode.BadRequest);
        var (_, audit) = await EventStream.OpenAsync(viewer, "audit");
        await audit.AssertProblemAsync(HttpStatusCode.Forbidden);
        var (_, anonymous) = await EventStream.OpenAsync(_app.CreateClient(), "status");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task AChatReplyReachesOnlyItsOwnersStream()
    {
        var owner = await ClientForRoleAsync("user");
        var other = await ClientForRoleAsync("user");
        var session = "session_" + Guid.NewGuid().ToString("N")[..12];
        await using var mine = await EventStream.OpenOkAsync(owner, $"chat:{session},status");
        await using var theirs = await EventStream.OpenOkAsync(other, $"chat:{session},status");
        var sent = await owner.PostAsJsonAsync("/api/v1/messages", new { session_id = session, message = "hello" });
        Assert.That(sent.StatusCode, Is.EqualTo(HttpStatusCode.OK), await sent.Content.ReadAsStringAsync());
        var relay = _app.CreateClient();
        relay.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Sanctum.Api.Tests.ChatBridge.ChatBridgeSupport.BridgeKey(_app));
        var replied = await relay.PostAsJsonAsync("/api/v1/outbox", new { session_id = session, response = "hi there" });
        Assert.That(replied.StatusCode, Is.EqualTo(HttpStatusCode.OK), await replied.Content.ReadAsStringAsync());

        var reply = await mine.NextAsync(e => e.Name == "chat.reply");
        Assert.That(reply.Data.GetProperty("session_id").GetString(), Is.EqualTo(session));
        var marker = await CreateToolAsync();
        (await _admin.PatchAsJsonAsync($"/api/tools/{marker}", new { status = "Off" })).EnsureSuccessStatusCode();
        var next = await theirs.NextAsync(e => e.Name is "chat.reply" or "status.changed" && (e.Name == "chat.reply" || About(e, marker)));
        Assert.That(next.Name, Is.EqualTo("status.changed"), "another user's stream never carries the reply");
    }
}
