using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>At-least-once delivery to relays through the unchanged protocol: inbox leases, outbox answers, leases run out.</summary>
public class ChatDeliveryTests
{
    private static long[] Ids(JsonElement inbox) => inbox.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()).ToArray();

    /// <summary>Lets every lease run out now, as if the lease time had passed.</summary>
    private static void ExpireLeases(SanctumApplication app)
    {
        using var db = app.OpenDatabase();
        db.Execute("UPDATE web_chat_messages SET lease_until = '2000-01-01T00:00:00Z' WHERE delivery_state = 'leased'");
    }

    private static Task<JsonElement> PollAsync(HttpClient relay, int limit = 50) =>
        relay.GetAsync($"/api/v1/?action=inbox&limit={limit}").ContinueWith(t => t.Result.BridgeDataAsync()).Unwrap();

    private static async Task AnswerAsync(HttpClient relay, string sessionId, string response, long? messageId = null) =>
        await (await relay.PostAsJsonAsync("/api/v1/?action=outbox",
            messageId is null ? (object)new { session_id = sessionId, response } : new { session_id = sessionId, response, message_id = messageId })).BridgeDataAsync();

    [Test]
    public async Task ARelayThatProbesWithLimit1AndThrowsTheAnswerAwayLosesNothing()
    {
        await using var app = new SanctumApplication();
        var first = app.ArrangeMessages("session_probe_a", 1).Single();
        var second = app.ArrangeMessages("session_probe_b", 1).Single();
        var relay = app.CreateKeyClient(app.BridgeKey());

        // Broca's start-up: one message asked for and thrown away.
        Assert.That(Ids(await PollAsync(relay, limit: 1)), Is.EqualTo(new[] { first }));
        // Its polling loop gets the rest and answers it; the probed message is held by its lease meanwhile.
        Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(new[] { second }));
        await AnswerAsync(relay, "session_probe_b", "answer b");
        Assert.That(Ids(await PollAsync(relay)), Is.Empty);
        Assert.That(app.DeliveryState(first), Is.EqualTo("leased"));

        // Once the lease runs out the probed message comes back, and is answered.
        ExpireLeases(app);
        var again = await PollAsync(relay);
        Assert.That(Ids(again), Is.EqualTo(new[] { first }));
        Assert.That(again.GetProperty("messages")[0].GetProperty("message").GetString(), Is.EqualTo("message 0"));
        await AnswerAsync(relay, "session_probe_a", "answer a");

        Assert.That(app.DeliveryState(first), Is.EqualTo("answered"));
        Assert.That(app.DeliveryState(second), Is.EqualTo("answered"));
        Assert.That(app.Count("SELECT delivery_attempts FROM web_chat_messages WHERE id = @first", new { first }), Is.EqualTo(2));
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE processed = TRUE"), Is.EqualTo(2));
        Assert.That(app.Count("SELECT message_id FROM web_chat_responses WHERE response = 'answer a'"), Is.EqualTo(first), "the reply names the message it answered");
        ExpireLeases(app);
        Assert.That(Ids(await PollAsync(relay)), Is.Empty, "answered messages are never handed out again");
    }

    [Test]
    public async Task APollRetriesRunOutLeasesFirstThenHandsOutWaitingMessagesAndSkipsRunningLeases()
    {
        await using var app = new SanctumApplication();
        var ids = app.ArrangeMessages("session_order", 6);
        var relay = app.CreateKeyClient(app.BridgeKey());
        Assert.That(Ids(await PollAsync(relay, limit: 4)), Is.EqualTo(ids.Take(4)));
        using (var db = app.OpenDatabase())
        {
            // 0 and 2 ran out (2 first), 1 and 3 are still held by a relay; 4 and 5 were never handed out.
            db.Execute("UPDATE web_chat_messages SET lease_until = '2000-01-01T00:00:02Z' WHERE id = @id", new { id = ids[0] });
            db.Execute("UPDATE web_chat_messages SET lease_until = '2000-01-01T00:00:01Z' WHERE id = @id", new { id = ids[2] });
        }

        var page = await relay.GetAsync("/api/v1/?action=inbox&limit=2&offset=1").ContinueWith(t => t.Result.BridgeDataAsync()).Unwrap();
        Assert.That(Ids(page), Is.EqualTo(new[] { ids[0], ids[4] }), "in hand-out order 2, 0, 4, 5; the page after the first");
        Assert.That(page.GetProperty("pagination").GetProperty("total").GetInt32(), Is.EqualTo(4));
        Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(new[] { ids[2], ids[5] }));
        Assert.That(Ids(await PollAsync(relay)), Is.Empty, "every lease is running");
        Assert.That(app.Count("SELECT delivery_attempts FROM web_chat_messages WHERE id = @id", new { id = ids[1] }), Is.EqualTo(1));
    }

    [Test]
    public async Task AMessageIsHandedOutAgainAfterItsLeaseAndIsUndeliveredAfterTheLastAttempt()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:MaxDeliveryAttempts"] = "3" });
        var id = app.ArrangeMessages("session_silent", 1).Single();
        var relay = app.CreateKeyClient(app.BridgeKey());

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(new[] { id }), $"attempt {attempt}");
            Assert.That(Ids(await PollAsync(relay)), Is.Empty, "not again inside the lease");
            ExpireLeases(app);
        }
        var last = await PollAsync(relay);
        Assert.That(Ids(last), Is.Empty);
        Assert.That(last.GetProperty("pagination").GetProperty("total").GetInt32(), Is.Zero);
        Assert.That(app.DeliveryState(id), Is.EqualTo("undelivered"));
        Assert.That(app.Count("SELECT processed FROM web_chat_messages WHERE id = @id", new { id }), Is.EqualTo(1));
        Assert.That(app.Count("SELECT delivery_attempts FROM web_chat_messages WHERE id = @id", new { id }), Is.EqualTo(3));
    }

    [Test]
    public async Task TheLeaseTimeComesFromConfiguration()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:DeliveryLeaseSeconds"] = "1" })
        {
            TestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        var id = app.ArrangeMessages("session_short_lease", 1).Single();
        var relay = app.CreateKeyClient(app.BridgeKey());
        Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(new[] { id }));
        using (var db = app.OpenDatabase())
        {
            var until = DateTimeOffset.Parse(db.QuerySingle<string>("SELECT lease_until FROM web_chat_messages WHERE id = @id", new { id }), System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(until, Is.EqualTo(clock.GetUtcNow().AddSeconds(1)), "leased for the configured second");
        }
        Assert.That(Ids(await PollAsync(relay)), Is.Empty, "held while its lease runs");
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(new[] { id }), "handed out again once the lease ran out");
    }

    [Test]
    public async Task AReplyNamingAMessageAnswersThatMessageOnly()
    {
        await using var app = new SanctumApplication();
        var ids = app.ArrangeMessages("session_named", 2);
        var relay = app.CreateKeyClient(app.BridgeKey());
        Assert.That(Ids(await PollAsync(relay)), Is.EqualTo(ids));
        await AnswerAsync(relay, "session_named", "to the second", ids[1]);
        Assert.That(app.DeliveryState(ids[1]), Is.EqualTo("answered"));
        // Without message_id a reply answers everything of the session handed out so far (Broca sends none).
        await AnswerAsync(relay, "session_named", "to the rest");
        Assert.That(app.DeliveryState(ids[0]), Is.EqualTo("answered"));
        Assert.That(app.Count("SELECT message_id FROM web_chat_responses WHERE response = 'to the rest'"), Is.EqualTo(ids[0]));
    }

    [Test]
    public async Task TheSameReplyPostedAgainIsStoredAndShownOnce()
    {
        await using var app = new SanctumApplication();
        var id = app.ArrangeMessages("session_retry", 1).Single();
        var relay = app.CreateKeyClient(app.BridgeKey());
        await PollAsync(relay);
        var first = await (await relay.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_retry", response = "Hello!" })).BridgeDataAsync();
        var again = await (await relay.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_retry", response = "Hello!" })).BridgeDataAsync();
        Assert.That(again.GetProperty("response_id").GetInt64(), Is.EqualTo(first.GetProperty("response_id").GetInt64()));
        var other = await (await relay.PostAsJsonAsync("/api/v1/?action=outbox", new { session_id = "session_retry", response = "And more." })).BridgeDataAsync();
        Assert.That(other.GetProperty("response_id").GetInt64(), Is.Not.EqualTo(first.GetProperty("response_id").GetInt64()));
        var responses = await (await app.CreateClient().GetAsync("/api/v1/?action=responses&session_id=session_retry")).BridgeDataAsync();
        Assert.That(responses.GetProperty("responses").EnumerateArray().Select(r => r.GetProperty("response").GetString()),
            Is.EqualTo(new[] { "Hello!", "And more." }));
        Assert.That(app.DeliveryState(id), Is.EqualTo("answered"));
    }

    [Test]
    public async Task RelaysPollingAtOnceOverRealConnectionsNeverGetTheSameMessageInsideItsLease()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:ChatBridge:InboxPerMinute"] = "100000" });
        app.UseKestrelOnLoopback();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        var ids = new List<long>();
        for (var s = 0; s < 20; s++) ids.AddRange(app.ArrangeMessages($"session_race_{s}", 15));
        var key = app.BridgeKey();

        async Task<List<long>> Relay()
        {
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            var got = new List<long>();
            for (var empty = 0; empty < 2;)
            {
                var batch = Ids(await (await client.GetAsync("/api/v1/?action=inbox&limit=7")).BridgeDataAsync());
                got.AddRange(batch);
                empty = batch.Length == 0 ? empty + 1 : 0;
            }
            return got;
        }

        var relays = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Relay)));
        var all = relays.SelectMany(r => r).ToList();
        Assert.That(all, Is.Unique, "no message was handed to two relays inside its lease");
        Assert.That(all.Order(), Is.EqualTo(ids));
        Assert.That(relays.Count(r => r.Count > 0), Is.GreaterThan(1), "the relays really did poll side by side");
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state <> 'leased' OR delivery_attempts <> 1"), Is.Zero);
    }
}
