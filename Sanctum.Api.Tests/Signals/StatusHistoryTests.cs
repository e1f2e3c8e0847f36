using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Signals;

/// <summary>GET /api/status/history and /availability: every status change, who may see it, and time in each status.</summary>
public class StatusHistoryTests : ManagementFixture
{
    [Test]
    public async Task EveryStatusWriteByHandIsRecordedWithItsOldAndNewStatusAndSource()
    {
        var tool = "sh-" + Guid.NewGuid().ToString("N")[..8];
        (await Admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "History", category = "master", status = "Ready" })).EnsureSuccessStatusCode();
        (await Admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Degraded" })).EnsureSuccessStatusCode();
        (await Admin.PatchAsJsonAsync($"/api/tools/{tool}", new { name = "Renamed" })).EnsureSuccessStatusCode();
        var patched = await (await Admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status = "Healthy" })).JsonAsync();
        Assert.That(patched.GetProperty("status_source").GetString(), Is.EqualTo("manual"));
        Assert.That(patched.GetProperty("status_since").GetString(), Is.Not.Null);

        var history = await _clients.Viewer.GetFromJsonAsync<JsonElement>($"/api/status/history?kind=tool&id={tool}");
        var rows = history.EnumerateArray().Select(h =>
            $"{(h.GetProperty("old_status").ValueKind == JsonValueKind.Null ? "" : h.GetProperty("old_status").GetString())}->{h.GetProperty("new_status").GetString()}:{h.GetProperty("source").GetString()}");
        Assert.That(rows, Is.EqualTo(new[] { "Degraded->Healthy:manual", "Ready->Degraded:manual", "->Ready:manual" }), "newest first; a rename is no change");
        Assert.That(history[0].GetProperty("name").GetString(), Is.EqualTo("Renamed"));

        var audit = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit?action=status.changed&target=tool:{tool}");
        Assert.That(audit.GetProperty("items").EnumerateArray().Select(i => $"{i.GetProperty("details").GetProperty("to").GetString()}:{i.GetProperty("actor").GetString()}"),
            Is.EqualTo(new[] { "Healthy:admin", "Degraded:admin" }));
    }

    [Test]
    public async Task AnAgentsStatusChangeByHandIsRecordedAndAudited()
    {
        var agent = "sc-" + Guid.NewGuid().ToString("N")[..8];
        (await Admin.PostAsJsonAsync("/api/agents", new { id = agent, name = "Changing" })).EnsureSuccessStatusCode();
        var patched = await (await Admin.PatchAsJsonAsync($"/api/agents/{agent}", new { status = "Degraded" })).JsonAsync();
        Assert.That(patched.GetProperty("status_source").GetString(), Is.EqualTo("manual"));
        var history = await Admin.GetFromJsonAsync<JsonElement>($"/api/status/history?kind=agent&id={agent}");
        Assert.That(history[0].GetProperty("new_status").GetString(), Is.EqualTo("Degraded"));
        var audit = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit?action=status.changed&target=agent:{agent}");
        Assert.That(audit.GetProperty("items").GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task AgentChangesAreVisibleOnlyToThoseWhoMaySeeTheAgent()
    {
        var agent = "sa-" + Guid.NewGuid().ToString("N")[..8];
        (await Admin.PostAsJsonAsync("/api/agents", new { id = agent, name = "Hidden", visible_to_roles = new[] { "admin" } })).EnsureSuccessStatusCode();
        (await Admin.PatchAsJsonAsync($"/api/agents/{agent}", new { status = "Degraded" })).EnsureSuccessStatusCode();

        var forAdmin = await Admin.GetFromJsonAsync<JsonElement>($"/api/status/history?kind=agent&id={agent}");
        Assert.That(forAdmin.GetArrayLength(), Is.EqualTo(2));
        var forViewer = await _clients.Viewer.GetFromJsonAsync<JsonElement>($"/api/status/history?kind=agent&id={agent}");
        Assert.That(forViewer.GetArrayLength(), Is.Zero);
        var everything = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/history?limit=1000");
        Assert.That(everything.EnumerateArray().Any(h => h.GetProperty("entity_id").GetString() == agent), Is.False);
        var availability = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/availability");
        Assert.That(availability.EnumerateArray().Any(a => a.GetProperty("id").GetString() == agent), Is.False);
    }

    [TestCase("kind=robot")]
    [TestCase("id=broca")]
    [TestCase("limit=0")]
    [TestCase("limit=1001")]
    [TestCase("since=soon")]
    public async Task BadHistoryQueriesAreRefused(string query) =>
        await (await _clients.Viewer.GetAsync($"/api/status/history?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest);

    [Test]
    public async Task AvailabilityIsTheShareOfTheWindowSpentHealthyOrReady()
    {
        var tool = "av-" + Guid.NewGuid().ToString("N")[..8];
        using (var db = _app.OpenDatabase()) StatusArrange.ToolHealthyThenOff(db, tool, "Avail");

        var all = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/availability?hours=24");
        var mine = all.EnumerateArray().Single(a => a.GetProperty("id").GetString() == tool);
        Assert.That(mine.GetProperty("kind").GetString(), Is.EqualTo("tool"));
        Assert.That(mine.GetProperty("percent").GetDouble(), Is.EqualTo(75).Within(0.2));
        Assert.That(mine.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("status").GetString()), Is.EqualTo(new[] { "Healthy", "Off" }));

        var week = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/availability?hours=48");
        var longer = week.EnumerateArray().Single(a => a.GetProperty("id").GetString() == tool);
        Assert.That(longer.GetProperty("percent").GetDouble(), Is.EqualTo(80).Within(0.2), "24 of 30 observed hours: the window before creation does not count");
        await (await _clients.Viewer.GetAsync("/api/status/availability?hours=0")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task ACheckedToolWithoutChangesInTheWindowIsMeasuredByItsCurrentStatus()
    {
        var tool = "av-" + Guid.NewGuid().ToString("N")[..8];
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, category, status, status_source) VALUES (@tool, 'Checked', 'master', 'Healthy', 'check')", new { tool });
        var all = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/availability");
        var mine = all.EnumerateArray().Single(a => a.GetProperty("kind").GetString() == "tool" && a.GetProperty("id").GetString() == tool);
        Assert.That((mine.GetProperty("percent").GetDouble(), mine.GetProperty("status_source").GetString()), Is.EqualTo((100.0, "check")));
    }

    [Test]
    public async Task AStatusSetByHandAndAnAgentNoRelayHasPolledHaveNoAvailabilityFigure()
    {
        var all = await _clients.Viewer.GetFromJsonAsync<JsonElement>("/api/status/availability");
        var broca = all.EnumerateArray().Single(a => a.GetProperty("kind").GetString() == "tool" && a.GetProperty("id").GetString() == "broca");
        Assert.That((broca.GetProperty("status_source").GetString(), broca.GetProperty("percent").ValueKind), Is.EqualTo(("manual", JsonValueKind.Null)));
        // A seeded agent is not Healthy with no relay: its status comes from relay presence like any other agent's.
        var athena = all.EnumerateArray().Single(a => a.GetProperty("kind").GetString() == "agent" && a.GetProperty("id").GetString() == "athena");
        Assert.That((athena.GetProperty("status").GetString(), athena.GetProperty("status_source").GetString(), athena.GetProperty("percent").ValueKind),
            Is.EqualTo(("Off", "relay", JsonValueKind.Null)));
    }
}
