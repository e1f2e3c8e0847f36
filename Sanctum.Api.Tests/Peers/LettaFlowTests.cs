using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// Link, import, the agent's Letta view and block edits against <see cref="LettaStandIn"/> (a stateful Letta in
/// Letta's shapes), and the letta client's resilience: GETs retried, writes not, a timeout, a circuit breaker per
/// address, metrics.
/// </summary>
public class LettaFlowTests
{
    private LettaStandIn _letta = null!;
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _letta = await LettaStandIn.StartAsync();
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _admin = await _app.CreateAdminClientAsync();
        await SetAsync("letta_server_password", LettaStandIn.Password);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _app.Dispose();
        await _letta.DisposeAsync();
    }

    [SetUp]
    public Task UseTheStandInAsync() => SetAsync("letta_server_url", _letta.BaseUrl);

    private async Task SetAsync(string key, string value)
    {
        var response = await _admin.PutAsJsonAsync($"/api/config/{key}", new { value });
        Assert.That((int)response.StatusCode, Is.InRange(200, 201), await response.Content.ReadAsStringAsync());
    }

    private async Task<string> AgentAsync()
    {
        var id = "a-" + Guid.NewGuid().ToString("N")[..10];
        var created = await _admin.PostAsJsonAsync("/api/agents", new { id, name = "Agent " + id });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        return id;
    }

    private async Task<(string Agent, string Uid)> LinkedAsync(string human = "The user is Jane.", long limit = 5000)
    {
        var agent = await AgentAsync();
        var uid = _letta.AddAgent(human: human, limit: limit);
        var response = await _admin.PutAsJsonAsync($"/api/agents/{agent}/letta", new { letta_uid = uid });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return (agent, uid);
    }

    private async Task<JsonElement> ViewAsync(string agent)
    {
        var response = await _admin.GetAsync($"/api/agents/{agent}/letta");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static JsonElement BlockOf(JsonElement view, string label) =>
        view.GetProperty("letta").GetProperty("blocks").EnumerateArray().Single(b => b.GetProperty("label").GetString() == label);

    private static Call PutBlock(string agent, string label, string value) =>
        new("PUT", $"/api/agents/{agent}/letta/blocks/{label}", JsonSerializer.Serialize(new { value }));

    private Task<HttpResponseMessage> PutBlockAsync(string agent, string label, string value, string? ifMatch)
    {
        var request = PutBlock(agent, label, value).ToRequest();
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return _admin.SendAsync(request);
    }

    private async Task<List<(string Action, string Outcome, string Details)>> AuditAsync(string agent)
    {
        await _app.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = _app.OpenDatabase();
        return db.Query<(string, string, string)>(
            "SELECT action, outcome, details FROM audit_log WHERE target_type = 'agent' AND target_id = @agent AND action LIKE '%letta%' ORDER BY id",
            new { agent }).ToList();
    }

    [Test]
    public async Task ASecondAgentCannotLinkTheSameLettaAgent()
    {
        var (first, uid) = await LinkedAsync();
        var second = await AgentAsync();

        var problem = await _app.AssertRefusedAsync(_admin, new Call("PUT", $"/api/agents/{second}/letta", JsonSerializer.Serialize(new { letta_uid = uid })), HttpStatusCode.Conflict);

        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(first));
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT letta_uid FROM agents WHERE id = @first", new { first }), Is.EqualTo(uid));
        Assert.That((await AuditAsync(first)).Select(a => a.Action), Is.EqualTo(new[] { "agent.letta.linked" }));
    }

    [Test]
    public async Task ALinkToAnAgentLettaDoesNotHaveIsRefusedAndAMalformedIdIsNotSent()
    {
        var agent = await AgentAsync();
        var missing = "agent-" + Guid.NewGuid().ToString("D");

        await _app.AssertInvalidAsync(_admin, new Call("PUT", $"/api/agents/{agent}/letta", JsonSerializer.Serialize(new { letta_uid = missing })), "letta_uid");
        var sent = _letta.Requests.Count;
        await _app.AssertInvalidAsync(_admin, new Call("PUT", $"/api/agents/{agent}/letta", """{"letta_uid":"agent-1"}"""), "letta_uid");
        await _app.AssertRefusedAsync(_admin, new Call("PUT", "/api/agents/no-such-agent/letta", JsonSerializer.Serialize(new { letta_uid = missing })), HttpStatusCode.NotFound);

        Assert.That(_letta.Requests.Count, Is.EqualTo(sent), "nothing malformed reaches Letta");
    }

    [Test]
    public async Task UnlinkingRemovesTheLinkAndIsAudited()
    {
        var (agent, uid) = await LinkedAsync();

        (await _admin.DeleteAsync($"/api/agents/{agent}/letta")).EnsureSuccessStatusCode();

        var view = await ViewAsync(agent);
        Assert.That(view.GetProperty("letta_uid").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(view.GetProperty("letta").ValueKind, Is.EqualTo(JsonValueKind.Null));
        var audit = await AuditAsync(agent);
        Assert.That(audit.Select(a => a.Action), Is.EqualTo(new[] { "agent.letta.linked", "agent.letta.unlinked" }));
        Assert.That(audit[1].Details, Does.Contain(uid));
    }

    [Test]
    public async Task ImportingMakesALinkedAgentWithLettasNameOnceOnly()
    {
        var uid = _letta.AddAgent(name: "Hermes");
        var id = "imp-" + Guid.NewGuid().ToString("N")[..8];

        var response = await _admin.PostAsJsonAsync($"/api/letta/agents/{uid}/import", new { id });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var agent = await response.JsonAsync();
        Assert.That(agent.GetProperty("name").GetString(), Is.EqualTo("Hermes"));
        Assert.That(agent.GetProperty("description").GetString(), Is.EqualTo("Research agent on Letta"));
        Assert.That(agent.GetProperty("letta_uid").GetString(), Is.EqualTo(uid));
        await _app.AssertRefusedAsync(_admin, new Call("POST", $"/api/letta/agents/{uid}/import", JsonSerializer.Serialize(new { id = id + "-2" })), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(_admin, new Call("POST", $"/api/letta/agents/{_letta.AddAgent()}/import", JsonSerializer.Serialize(new { id })), HttpStatusCode.Conflict);
        await _app.AssertRefusedAsync(_admin, new Call("POST", $"/api/letta/agents/agent-{Guid.NewGuid():D}/import", JsonSerializer.Serialize(new { id = id + "-3" })), HttpStatusCode.NotFound);
        var page = await _admin.GetFromJsonAsync<JsonElement>("/api/letta/agents?limit=100");
        Assert.That(page.GetProperty("items").EnumerateArray().Single(a => a.GetProperty("id").GetString() == uid).GetProperty("linked_agent_id").GetString(), Is.EqualTo(id));
    }

    [Test]
    public async Task LettasAgentsArePagedWithItsOwnCursor()
    {
        for (var i = 0; i < 3; i++) _letta.AddAgent();
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await _admin.GetFromJsonAsync<JsonElement>("/api/letta/agents?limit=2" + (after is null ? "" : "&after=" + after));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("id").GetString()!));
            after = page.GetProperty("next_after").GetString();
        }
        while (after is not null);

        Assert.That(seen, Is.Unique.And.Count.GreaterThanOrEqualTo(3));
        Assert.That(seen, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(_letta.Requests, Has.Some.Contains("limit=2&after=agent-"));
    }

    [Test]
    public async Task TheViewShowsModelPromptToolsAndBlocksWithCharactersUsed()
    {
        var (agent, uid) = await LinkedAsync(human: "Jane likes café ☕ 🌍", limit: 300);

        var view = await ViewAsync(agent);

        Assert.That(view.GetProperty("reachable").GetBoolean(), Is.True);
        Assert.That(view.GetProperty("letta_uid").GetString(), Is.EqualTo(uid));
        var letta = view.GetProperty("letta");
        Assert.That(letta.GetProperty("model").GetString(), Is.EqualTo("gpt-4o-mini"));
        Assert.That(letta.GetProperty("system").GetString(), Is.EqualTo("You are Athena. Answer briefly."));
        Assert.That(letta.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()), Is.EqualTo(new[] { "web_search" }));
        var human = BlockOf(view, "human");
        Assert.That(human.GetProperty("value").GetString(), Is.EqualTo("Jane likes café ☕ 🌍"));
        Assert.That(human.GetProperty("limit").GetInt64(), Is.EqualTo(300));
        Assert.That(human.GetProperty("characters").GetInt32(), Is.EqualTo(19), "code points, as Letta counts them (the globe is two UTF-16 units)");
        Assert.That(human.GetProperty("etag").GetString(), Does.StartWith("\""));
    }

    [Test]
    public async Task ABlockEditWithTheEtagReadIsWrittenToLettaAndAudited()
    {
        var (agent, uid) = await LinkedAsync();
        var etag = BlockOf(await ViewAsync(agent), "human").GetProperty("etag").GetString()!;

        var response = await PutBlockAsync(agent, "human", "The user is Jane; she prefers short answers.", etag);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var block = await response.JsonAsync();
        Assert.That(block.GetProperty("value").GetString(), Is.EqualTo("The user is Jane; she prefers short answers."));
        Assert.That(response.Headers.ETag?.ToString(), Is.EqualTo(block.GetProperty("etag").GetString()).And.Not.EqualTo(etag));
        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("The user is Jane; she prefers short answers."));
        var audit = (await AuditAsync(agent)).Last();
        Assert.That((audit.Action, audit.Outcome), Is.EqualTo(("letta.block.updated", "ok")));
        Assert.That(audit.Details, Does.Contain("\"label\":\"human\"").And.Contain("\"characters_after\":44").And.Not.Contain("short answers"));
        // The old ETag is stale now: a second write with it is refused.
        await (await PutBlockAsync(agent, "human", "again", etag)).AssertProblemAsync(HttpStatusCode.PreconditionFailed);
    }

    [Test]
    public async Task ABlockChangedOnLettaSinceItWasReadIsNotOverwritten()
    {
        var (agent, uid) = await LinkedAsync();
        var etag = BlockOf(await ViewAsync(agent), "human").GetProperty("etag").GetString()!;
        _letta.SetBlockValue(uid, "human", "Changed by the agent itself.");
        var patches = _letta.Count("PATCH", "/v1/");

        await (await PutBlockAsync(agent, "human", "Mine.", etag)).AssertProblemAsync(HttpStatusCode.PreconditionFailed);

        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("Changed by the agent itself."));
        Assert.That(_letta.Count("PATCH", "/v1/"), Is.EqualTo(patches));
        Assert.That((await AuditAsync(agent)).Select(a => a.Action), Has.None.EqualTo("letta.block.updated"));
    }

    [Test]
    public async Task ABlockEditNeedsIfMatchAValueWithinTheLimitAndAKnownLabel()
    {
        var (agent, uid) = await LinkedAsync(limit: 10);
        var etag = BlockOf(await ViewAsync(agent), "human").GetProperty("etag").GetString()!;
        var patches = _letta.Count("PATCH", "/v1/");

        await (await PutBlockAsync(agent, "human", "short", null)).AssertProblemAsync((HttpStatusCode)428);
        var tooLong = await (await PutBlockAsync(agent, "human", "far more than ten characters", etag)).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(tooLong.GetProperty("errors").TryGetProperty("value", out _), Is.True, tooLong.ToString());
        await (await PutBlockAsync(agent, "no-such-block", "short", etag)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await PutBlockAsync(agent, "bad label", "short", etag)).AssertProblemAsync(HttpStatusCode.BadRequest);
        var unlinked = await AgentAsync();
        await (await PutBlockAsync(unlinked, "human", "short", etag)).AssertProblemAsync(HttpStatusCode.Conflict);

        Assert.That(_letta.Count("PATCH", "/v1/"), Is.EqualTo(patches));
        Assert.That(_letta.BlockValue(uid, "human"), Is.EqualTo("The user is Jane."));
    }

    [Test]
    public async Task WhenLettaIsUnreachableTheViewSaysSoAndOurRecordStillWorks()
    {
        var (agent, _) = await LinkedAsync();
        await SetAsync("letta_server_url", "http://127.0.0.1:" + PeerProcess.FreePort());

        var view = await ViewAsync(agent);

        Assert.That(view.GetProperty("reachable").GetBoolean(), Is.False);
        Assert.That(view.GetProperty("error").GetString(), Does.StartWith("Letta: unreachable"));
        Assert.That((await _admin.GetAsync($"/api/agents/{agent}")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var renamed = await _admin.PatchAsJsonAsync($"/api/agents/{agent}", new { display_name = "Renamed while Letta is down" });
        Assert.That(renamed.StatusCode, Is.EqualTo(HttpStatusCode.OK), await renamed.Content.ReadAsStringAsync());
        await (await PutBlockAsync(agent, "human", "x", "\"any\"")).AssertProblemAsync(HttpStatusCode.BadGateway);
    }

    [Test]
    public async Task ReadsAreRetriedButABlockWriteIsSentOnce()
    {
        var (agent, uid) = await LinkedAsync();
        var reads = _letta.Count("GET", $"/v1/agents/{uid}");
        _letta.Fail("GET", 503, times: 2);

        var view = await ViewAsync(agent);

        Assert.That(view.GetProperty("reachable").GetBoolean(), Is.True, view.ToString());
        Assert.That(_letta.Count("GET", $"/v1/agents/{uid}") - reads, Is.EqualTo(3), "two 503s, then the answer");

        var etag = BlockOf(view, "human").GetProperty("etag").GetString()!;
        var patches = _letta.Count("PATCH", "/v1/");
        _letta.Fail("PATCH", 503);
        await (await PutBlockAsync(agent, "human", "Once.", etag)).AssertProblemAsync(HttpStatusCode.BadGateway);
        Assert.That(_letta.Count("PATCH", "/v1/") - patches, Is.EqualTo(1), "a write is never retried");
        Assert.That((await AuditAsync(agent)).Last().Outcome, Is.EqualTo("failed"));
    }

    [Test]
    public async Task APeerThatDoesNotAnswerIsGivenUpAfterTheTimeoutAndCountedInMetrics()
    {
        await using var silent = await LettaStandIn.StartAsync();
        var (agent, uid) = await LinkedAsync();
        await SetAsync("letta_server_url", silent.BaseUrl);
        await SetAsync("letta_connection_timeout", "1");
        silent.Hang = true;
        var outcomes = new List<string>();
        using var listener = Listen(outcomes);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var view = await ViewAsync(agent);

            Assert.That(view.GetProperty("reachable").GetBoolean(), Is.False);
            Assert.That(view.GetProperty("error").GetString(), Does.Contain("timed out after 1000 ms"));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "bounded by the link's timeout, not the retries");
            lock (outcomes) Assert.That(outcomes, Does.Contain("timeout"));
        }
        finally
        {
            await SetAsync("letta_connection_timeout", "30");
        }
    }

    [Test]
    public async Task AFailingPeerOpensItsCircuitAndIsNotCalledMeanwhile()
    {
        await using var failing = await LettaStandIn.StartAsync();
        var (agent, _) = await LinkedAsync();
        await SetAsync("letta_server_url", failing.BaseUrl);
        failing.Fail("GET", 500, times: 100);
        var outcomes = new List<string>();
        using var listener = Listen(outcomes);

        for (var i = 0; i < 5; i++) Assert.That((await ViewAsync(agent)).GetProperty("error").GetString(), Does.Contain("HTTP 500"));
        var calls = failing.Requests.Count;
        var view = await ViewAsync(agent);

        Assert.That(view.GetProperty("error").GetString(), Does.Contain("circuit open"));
        Assert.That(failing.Requests.Count, Is.EqualTo(calls), "an open circuit sends nothing");
        lock (outcomes) Assert.That(outcomes, Does.Contain("http_5xx").And.Contain("circuit_open"));
        // Another Letta address has its own circuit.
        await SetAsync("letta_server_url", _letta.BaseUrl);
        Assert.That((await ViewAsync(agent)).GetProperty("reachable").GetBoolean(), Is.True);
    }

    /// <summary>Collects the outcome tag of every letta call measured in sanctum.peer.call.duration.</summary>
    private static MeterListener Listen(List<string> outcomes)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "sanctum.peer.call.duration") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? peer = null, outcome = null;
            foreach (var tag in tags)
                if (tag.Key == "peer") peer = tag.Value as string;
                else if (tag.Key == "outcome") outcome = tag.Value as string;
            if (peer == "letta" && outcome is not null) lock (outcomes) outcomes.Add(outcome);
        });
        listener.Start();
        return listener;
    }
}
