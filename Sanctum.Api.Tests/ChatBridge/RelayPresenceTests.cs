using Sanctum.Api.Agents;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>An agent's status from relay polls: its own key, or the global key for all agents.</summary>
public class RelayPresenceTests
{
    private static async Task<JsonElement> AgentAsync(HttpClient admin, string id) => await admin.GetFromJsonAsync<JsonElement>($"/api/agents/{id}");

    [Test]
    public async Task AnAgentIsOffUntilARelayPollsThenHealthyThenDegradedWhenThePollsStopAndEveryChangeIsInTheHistory()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:RelayWindowSeconds"] = "60" });
        var admin = await app.CreateAdminClientAsync();
        const string athenaKey = "athena-relay-key-presence-0001";
        var put = await admin.PutAsJsonAsync("/api/agents/athena/config/chat_api_key", new { value = athenaKey });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created), await put.Content.ReadAsStringAsync());

        // A seeded agent is like any other: Off, from relay presence, until a relay speaks for it.
        var seeded = await AgentAsync(admin, "athena");
        Assert.That((seeded.GetProperty("status").GetString(), seeded.GetProperty("status_source").GetString()), Is.EqualTo(("Off", "relay")));
        Assert.That(seeded.GetProperty("status_reason").GetString(), Is.EqualTo("No relay has polled its inbox yet."));
        Assert.That(seeded.GetProperty("last_relay_poll_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
        // A new agent is not Healthy the moment it is created.
        var created = await (await admin.PostAsJsonAsync("/api/agents", new { id = "fresh-agent", name = "Fresh" })).JsonAsync();
        Assert.That((created.GetProperty("status").GetString(), created.GetProperty("status_source").GetString()), Is.EqualTo(("Off", "relay")));
        Assert.That(created.GetProperty("status_reason").GetString(), Does.Contain("No relay"));

        // Athena's own relay polls: Athena is Healthy, Monday is not (an agent key serves one agent).
        await (await app.CreateKeyClient(athenaKey).GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        var polled = await AgentAsync(admin, "athena");
        Assert.That((polled.GetProperty("status").GetString(), polled.GetProperty("status_source").GetString()), Is.EqualTo(("Healthy", "relay")));
        Assert.That(polled.GetProperty("last_relay_poll_at").GetString(), Does.Match(ChatBridgeSupport.WholeSecondUtc));
        Assert.That(polled.GetProperty("status_since").GetString(), Is.EqualTo(polled.GetProperty("last_relay_poll_at").GetString()));
        Assert.That((await AgentAsync(admin, "monday")).GetProperty("status").GetString(), Is.EqualTo("Off"), "Athena's key does not speak for Monday");

        // The polls stop: once the last one is older than the window, the sweep makes it Degraded, since the window ran out.
        using (var db = app.OpenDatabase()) db.Execute("UPDATE chat_relay_polls SET last_poll_at = '2026-01-01T10:00:00Z', connected_since = '2026-01-01T09:00:00Z'");
        app.SweepRelayPresence();
        var quiet = await AgentAsync(admin, "athena");
        Assert.That(quiet.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(quiet.GetProperty("status_since").GetString(), Is.EqualTo("2026-01-01T10:01:00Z"));
        Assert.That(quiet.GetProperty("last_relay_poll_at").GetString(), Is.EqualTo("2026-01-01T10:00:00Z"));

        // The global key serves every agent.
        await (await app.CreateKeyClient(app.BridgeKey()).GetAsync("/api/v1/?action=inbox")).BridgeDataAsync();
        var agents = await admin.GetFromJsonAsync<JsonElement>("/api/agents");
        Assert.That(agents.EnumerateArray().Select(a => a.GetProperty("status").GetString()), Is.All.EqualTo("Healthy"));

        // An inactive agent is Off, by hand.
        await admin.DeleteAsync("/api/agents/timbre");
        var gone = await admin.GetFromJsonAsync<JsonElement>("/api/agents/timbre");
        Assert.That((gone.GetProperty("status").GetString(), gone.GetProperty("status_source").GetString()), Is.EqualTo(("Off", "manual")));

        // Each change is in the status history with its source, and audited.
        var history = await admin.GetFromJsonAsync<JsonElement>("/api/status/history?kind=agent&id=athena");
        var changes = history.EnumerateArray().Select(h => $"{h.GetProperty("new_status").GetString()}/{h.GetProperty("source").GetString()}").ToList();
        Assert.That(changes, Is.SupersetOf(new[] { "Degraded/relay", "Healthy/relay" }), string.Join(", ", changes));
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/audit?action=status.changed&target=agent:athena");
        Assert.That(audit.GetProperty("items").GetArrayLength(), Is.GreaterThanOrEqualTo(2), audit.ToString());
    }

    [Test]
    public void TheDerivationIsAPureFunctionOfTheStoredStatusThePollAndTheTime()
    {
        var now = DateTimeOffset.Parse("2026-11-28T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var recent = new RelayPresence.Poll("2026-11-28T11:59:30Z", "2026-11-28T08:00:00Z");
        var old = new RelayPresence.Poll("2026-11-28T11:00:00Z", "2026-11-28T10:00:00Z");
        var typed = new RelayPresence.Stored(true, "Healthy", "manual", "2026-01-01T00:00:00Z", null);
        var relayed = typed with { StatusSource = "relay" };

        Assert.That(RelayPresence.Derive(typed, null, now, 60), Is.EqualTo(new RelayPresence.Presence("Healthy", "manual", "2026-01-01T00:00:00Z", null)),
            "no signal: the typed label stays");
        Assert.That(RelayPresence.Derive(relayed, null, now, 60).Status, Is.EqualTo("Off"), "the relay's record is gone");
        Assert.That(RelayPresence.Derive(typed, recent, now, 60),
            Is.EqualTo(new RelayPresence.Presence("Healthy", "relay", "2026-11-28T08:00:00Z", "A relay has been polling since 2026-11-28T08:00:00Z.")));
        Assert.That(RelayPresence.Latest(old, recent), Is.EqualTo(recent), "the global poll is newer");
        Assert.That(RelayPresence.Derive(typed, old, now, 60),
            Is.EqualTo(new RelayPresence.Presence("Degraded", "relay", "2026-11-28T11:01:00Z", "No relay poll since 2026-11-28T11:00:00Z.")));
        Assert.That(RelayPresence.Derive(typed, old, now, 3600).Status, Is.EqualTo("Healthy"), "inside a longer window");
        Assert.That(RelayPresence.Derive(typed with { IsActive = false }, recent, now, 60),
            Is.EqualTo(new RelayPresence.Presence("Off", "manual", "2026-11-28T12:00:00Z", "Inactive.")));
    }
}
