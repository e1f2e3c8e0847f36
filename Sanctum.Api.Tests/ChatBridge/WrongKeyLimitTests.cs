using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>
/// Issue 23 item 4: wrong bridge keys were not limited on the admin actions, and every refusal wrote an audit row
/// (600 requests, 720 rows). Wrong keys are limited per client address over every action (then 429 whatever key is
/// sent), and refusals make one audit row per address and minute with a count. Time is a FakeTimeProvider.
/// </summary>
public class WrongKeyLimitTests
{
    private static readonly (string Method, string Path)[] Actions =
    [
        ("POST", "/api/v1/cleanup"), ("GET", "/api/v1/?action=config"), ("POST", "/api/v1/config"), ("POST", "/api/v1/?action=clear_data"),
        ("POST", "/api/v1/cleanup_logs"), ("GET", "/api/v1/?action=sessions"), ("GET", "/api/v1/inbox"), ("POST", "/api/v1/?action=outbox"),
    ];

    [Test]
    public async Task SixHundredWrongKeysGetTwenty401sThen429sAndOneAuditRow()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 * 60 + 5));
        await using var app = new SanctumApplication { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var guesser = app.CreateKeyClient("wrong-key-guess");
        using (var db = app.OpenDatabase()) db.Execute("DELETE FROM audit_log WHERE action = 'chat_bridge.key.rejected'");
        var sessionsBefore = app.Count("SELECT COUNT(*) FROM web_chat_sessions");

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 600; i++)
        {
            var (method, path) = Actions[i % Actions.Length];
            var response = await guesser.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Support.JsonBody("{}") : null });
            codes.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && codes.Count(c => c == HttpStatusCode.TooManyRequests) == 1)
            {
                var body = await response.AssertBridgeErrorAsync(HttpStatusCode.TooManyRequests, "Rate limit exceeded: too many wrong keys from this address");
                Assert.That(int.Parse(response.Headers.RetryAfter!.ToString()), Is.InRange(1, 60));
                Assert.That(body.GetProperty("retry_after").GetInt32(), Is.InRange(1, 60));
            }
        }
        Assert.That(codes.Take(20), Is.All.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(codes.Skip(20), Is.All.EqualTo(HttpStatusCode.TooManyRequests));

        // While refused, even the right key is not looked at: a right guess cannot be told from a wrong one.
        var admin = app.CreateKeyClient(app.BridgeKey("chat_admin_key"));
        Assert.That((await admin.GetAsync("/api/v1/config")).StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));

        // The minute ends: its refusals become one row, with their count, the address and the actions.
        clock.Advance(TimeSpan.FromMinutes(1));
        await app.Services.GetRequiredService<Sanctum.Api.Audit.AuditLog>().FlushAsync(TimeSpan.FromSeconds(30));
        using (var db = app.OpenDatabase())
        {
            var rows = db.Query<(string Address, string Outcome, string Details)>(
                "SELECT address, outcome, details FROM audit_log WHERE action = 'chat_bridge.key.rejected'").ToList();
            Assert.That(rows, Has.Count.EqualTo(1));
            Assert.That((rows[0].Address, rows[0].Outcome), Is.EqualTo(("127.0.0.1", "denied")));
            var details = JsonDocument.Parse(rows[0].Details).RootElement;
            Assert.That(details.GetProperty("count").GetInt64(), Is.EqualTo(601));
            Assert.That(details.GetProperty("actions").EnumerateArray().Select(a => a.GetString()),
                Is.EquivalentTo(new[] { "cleanup", "config", "clear_data", "cleanup_logs", "sessions", "inbox", "outbox" }));
            Assert.That(rows[0].Details, Does.Not.Contain("wrong-key-guess"));
        }
        Assert.That(app.Count("SELECT COUNT(*) FROM web_chat_sessions"), Is.EqualTo(sessionsBefore));

        // A minute later the address may present a key again, and the right one opens.
        await (await admin.GetAsync("/api/v1/config")).BridgeDataAsync();
    }
}
