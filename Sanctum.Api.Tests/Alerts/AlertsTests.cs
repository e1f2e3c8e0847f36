using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sanctum.Api.Alerts;

namespace Sanctum.Api.Tests.Alerts;

/// <summary>
/// Alerts end to end against real peers: a Kestrel webhook receiver checking signatures, a real SMTP server with STARTTLS
/// and AUTH. Time is a FakeTimeProvider: the grace period, retries and backoff are driven by advancing it, and the
/// engine's rounds are run directly (its own timer waits a day).
/// </summary>
public class AlertsTests
{
    private const string Secret = "webhook-secret-0123456789";

    private static SanctumApplication App(FakeTimeProvider clock, Dictionary<string, string?>? extra = null, string? dataDirectory = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sanctum:Alerts:PollInterval"] = "1.00:00:00",
            ["Sanctum:Alerts:RetryDelay"] = "00:00:30",
            ["Sanctum:Alerts:MaxAttempts"] = "5",
            ["Sanctum:Alerts:SendTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return new SanctumApplication(settings, dataDirectory) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
    }

    private static FakeTimeProvider Clock() => new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    private static AlertEngine Engine(SanctumApplication app) => app.Services.GetRequiredService<AlertEngine>();

    private static async Task<long> CreateAsync(HttpClient admin, string path, object body)
    {
        var response = await admin.PostAsJsonAsync(path, body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("id").GetInt64();
    }

    private static async Task<(string Tool, long Channel, long Rule)> ArrangeStatusRuleAsync(HttpClient admin, string url, int grace, string tool)
    {
        (await admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "Tool " + tool, category = "master", status = "Healthy" })).EnsureSuccessStatusCode();
        var channel = await CreateAsync(admin, "/api/alerts/channels", new { name = "hook " + tool, type = "webhook", url, secret = Secret });
        var rule = await CreateAsync(admin, "/api/alerts/rules", new
        {
            name = "tools off " + tool, @event = "status", kinds = new[] { "tool" }, statuses = new[] { "Off" }, grace_seconds = grace, channel_ids = new[] { channel },
        });
        return (tool, channel, rule);
    }

    private static async Task SetStatusAsync(HttpClient admin, string tool, string status) =>
        (await admin.PatchAsJsonAsync($"/api/tools/{tool}", new { status })).EnsureSuccessStatusCode();

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient admin, long channel) =>
        (await admin.GetFromJsonAsync<JsonElement>($"/api/alerts/deliveries?channel_id={channel}")).GetProperty("items").EnumerateArray().ToList();

    [Test]
    public async Task AToolOffPastTheGraceIsOneSignedWebhookAndHealthyAgainResolvesIt()
    {
        var clock = Clock();
        using var app = App(clock);
        await using var receiver = new WebhookReceiver(Secret);
        var admin = await app.CreateAdminClientAsync();
        var (tool, channel, _) = await ArrangeStatusRuleAsync(admin, receiver.Url, grace: 60, "alert-off");

        await SetStatusAsync(admin, tool, "Off");
        await Engine(app).RunOnceAsync();
        Assert.That(receiver.Requests, Is.Empty, "still within the grace period");
        clock.Advance(TimeSpan.FromSeconds(61));
        await Engine(app).RunOnceAsync();
        await Engine(app).RunOnceAsync();

        Assert.That(receiver.Requests, Has.Count.EqualTo(1), "one alert however many rounds see it");
        var sent = receiver.Requests.Single();
        Assert.That(sent.SignatureValid, $"signature {sent.Signature} over {sent.Timestamp}.{sent.Body}");
        Assert.That(sent.Timestamp, Is.EqualTo(clock.GetUtcNow().ToUnixTimeSeconds().ToString()));
        Assert.That(sent.Json.GetProperty("event").GetString(), Is.EqualTo("status"));
        Assert.That(sent.Json.GetProperty("entity").GetProperty("kind").GetString(), Is.EqualTo("tool"));
        Assert.That(sent.Json.GetProperty("entity").GetProperty("id").GetString(), Is.EqualTo(tool));
        Assert.That(sent.Json.GetProperty("from_status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(sent.Json.GetProperty("to_status").GetString(), Is.EqualTo("Off"));
        Assert.That(sent.Json.GetProperty("summary").GetString(), Is.EqualTo($"Tool Tool {tool} is Off"));

        await SetStatusAsync(admin, tool, "Healthy");
        await Engine(app).RunOnceAsync();
        await Engine(app).RunOnceAsync();
        Assert.That(receiver.Requests, Has.Count.EqualTo(2));
        var resolved = receiver.Requests.Last();
        Assert.That(resolved.SignatureValid);
        Assert.That(resolved.Json.GetProperty("event").GetString(), Is.EqualTo("status.resolved"));
        Assert.That(resolved.Json.GetProperty("to_status").GetString(), Is.EqualTo("Healthy"));

        var deliveries = await DeliveriesAsync(admin, channel);
        Assert.That(deliveries.Select(d => d.GetProperty("event").GetString()), Is.EqualTo(new[] { "status.resolved", "status" }));
        Assert.That(deliveries.Select(d => d.GetProperty("status").GetString()), Is.All.EqualTo("sent"));
        Assert.That(deliveries.Select(d => d.GetProperty("attempts").GetInt64()), Is.All.EqualTo(1));
    }

    [Test]
    public async Task AFlapWithinTheGracePeriodSendsNothing()
    {
        var clock = Clock();
        using var app = App(clock);
        await using var receiver = new WebhookReceiver(Secret);
        var admin = await app.CreateAdminClientAsync();
        var (tool, channel, _) = await ArrangeStatusRuleAsync(admin, receiver.Url, grace: 60, "alert-flap");

        await SetStatusAsync(admin, tool, "Off");
        clock.Advance(TimeSpan.FromSeconds(20));
        await Engine(app).RunOnceAsync();
        await SetStatusAsync(admin, tool, "Healthy");
        clock.Advance(TimeSpan.FromSeconds(20));
        await Engine(app).RunOnceAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        await Engine(app).RunOnceAsync();

        Assert.That(receiver.Requests, Is.Empty);
        Assert.That(await DeliveriesAsync(admin, channel), Is.Empty);
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM alert_events"), Is.Zero);
    }

    [Test]
    public async Task AWebhookThatFailsTwiceIsRetriedWithDoublingWaitsUntilItAccepts()
    {
        var clock = Clock();
        using var app = App(clock);
        await using var receiver = new WebhookReceiver(Secret);
        receiver.Answers.Enqueue(500);
        receiver.Answers.Enqueue(503);
        var admin = await app.CreateAdminClientAsync();
        var (tool, channel, _) = await ArrangeStatusRuleAsync(admin, receiver.Url, grace: 0, "alert-retry");
        await SetStatusAsync(admin, tool, "Off");

        Assert.That(await Engine(app).RunOnceAsync(), Is.EqualTo(1));
        var first = (await DeliveriesAsync(admin, channel)).Single();
        Assert.That(first.GetProperty("status").GetString(), Is.EqualTo("pending"));
        Assert.That(first.GetProperty("last_error").GetString(), Is.EqualTo("The webhook answered HTTP 500."));
        Assert.That(await Engine(app).RunOnceAsync(), Is.Zero, "not due again before 30 s");
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.That(await Engine(app).RunOnceAsync(), Is.EqualTo(1));
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.That(await Engine(app).RunOnceAsync(), Is.Zero, "the second wait is 60 s");
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.That(await Engine(app).RunOnceAsync(), Is.EqualTo(1));

        var done = (await DeliveriesAsync(admin, channel)).Single();
        Assert.That(done.GetProperty("status").GetString(), Is.EqualTo("sent"));
        Assert.That(done.GetProperty("attempts").GetInt64(), Is.EqualTo(3));
        Assert.That(receiver.Requests.Select(r => r.Json.GetProperty("event").GetString()), Is.EqualTo(new[] { "status", "status", "status" }));
        Assert.That(receiver.Requests.Select(r => r.SignatureValid), Is.All.True);
    }

    [Test]
    public async Task AWebhookThatNeverAnswersEndsFailedAndTheServiceCarriesOn()
    {
        var clock = Clock();
        using var app = App(clock, new() { ["Sanctum:Alerts:SendTimeout"] = "00:00:01", ["Sanctum:Alerts:MaxAttempts"] = "2" });
        await using var receiver = new WebhookReceiver(Secret) { NeverAnswer = true };
        var admin = await app.CreateAdminClientAsync();
        var (tool, channel, _) = await ArrangeStatusRuleAsync(admin, receiver.Url, grace: 0, "alert-hang");
        await SetStatusAsync(admin, tool, "Off");

        var round = Engine(app).RunOnceAsync();
        // While the send hangs, the service answers.
        Assert.That((await admin.GetAsync("/api/status")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await round;
        clock.Advance(TimeSpan.FromSeconds(30));
        await Engine(app).RunOnceAsync();

        var failed = (await DeliveriesAsync(admin, channel)).Single();
        Assert.That(failed.GetProperty("status").GetString(), Is.EqualTo("failed"));
        Assert.That(failed.GetProperty("attempts").GetInt64(), Is.EqualTo(2));
        Assert.That(failed.GetProperty("last_error").GetString(), Is.EqualTo("No answer within 1 s."));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.That(await Engine(app).RunOnceAsync(), Is.Zero, "a failed delivery is never tried again");

        var test = await (await admin.PostAsync($"/api/alerts/channels/{channel}/test", null)).JsonAsync();
        Assert.That(test.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(test.GetProperty("error").GetString(), Is.EqualTo("No answer within 1 s."));
    }

    [Test]
    public async Task TwoInstancesOnOneDatabaseSendOneAlert()
    {
        var clock = Clock();
        var directory = SanctumApplication.NewDataDirectory();
        using var first = App(clock, dataDirectory: directory);
        using var second = App(clock, dataDirectory: directory);
        await using var receiver = new WebhookReceiver(Secret);
        var admin = await first.CreateAdminClientAsync();
        var (tool, channel, _) = await ArrangeStatusRuleAsync(admin, receiver.Url, grace: 0, "alert-two");
        await SetStatusAsync(admin, tool, "Off");

        await Task.WhenAll(Engine(first).RunOnceAsync(), Engine(second).RunOnceAsync(), Engine(first).RunOnceAsync(), Engine(second).RunOnceAsync());
        await Task.WhenAll(Engine(first).RunOnceAsync(), Engine(second).RunOnceAsync());

        Assert.That(receiver.Requests, Has.Count.EqualTo(1));
        Assert.That((await DeliveriesAsync(admin, channel)).Single().GetProperty("status").GetString(), Is.EqualTo("sent"));
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }

    [Test]
    public async Task AFailedJobRunIsAlertedOnce()
    {
        var clock = Clock();
        using var app = App(clock);
        await using var receiver = new WebhookReceiver(Secret);
        var admin = await app.CreateAdminClientAsync();
        var channel = await CreateAsync(admin, "/api/alerts/channels", new { name = "jobs", type = "webhook", url = receiver.Url, secret = Secret });
        await CreateAsync(admin, "/api/alerts/rules", new { name = "failed jobs", @event = "job.failed", channel_ids = new[] { channel } });
        long runId;
        using (var db = app.OpenDatabase())
        {
            var at = Sanctum.Api.Data.Timestamp.From(clock.GetUtcNow());
            runId = db.ExecuteScalar<long>("""
                INSERT INTO job_runs (job_id, trigger, started_at, finished_at, outcome, message)
                SELECT id, 'schedule', @at, @at, 'failed', 'disk on fire' FROM jobs WHERE kind = 'purge-sessions' RETURNING id
                """, new { at });
        }
        await Engine(app).RunOnceAsync();
        await Engine(app).RunOnceAsync();

        var sent = receiver.Requests.Single();
        Assert.That(sent.Json.GetProperty("event").GetString(), Is.EqualTo("job.failed"));
        Assert.That(sent.Json.GetProperty("reason").GetString(), Does.Contain($"Run {runId}").And.Contain("disk on fire"));
    }

    [Test]
    public async Task AnEmailGoesThroughARealSmtpServerOverStartTlsWithAuthentication()
    {
        using var smtp = new SmtpTestServer();
        var clock = Clock();
        using var app = App(clock, new()
        {
            ["Sanctum:Alerts:SmtpTrustedCertificate"] = smtp.CertificatePath,
            ["Sanctum:System:LowDiskBytes"] = long.MaxValue.ToString(),
        });
        var admin = await app.CreateAdminClientAsync();
        var channel = await CreateAsync(admin, "/api/alerts/channels", new
        {
            name = "mail", type = "email", smtp_host = "127.0.0.1", smtp_port = smtp.Port, smtp_security = "starttls",
            smtp_username = SmtpTestServer.User, smtp_password = SmtpTestServer.Password, from = "sanctum@example.test", to = new[] { "ops@example.test" },
        });
        var shown = await admin.GetFromJsonAsync<JsonElement>($"/api/alerts/channels/{channel}");
        Assert.That(shown.GetProperty("smtp_password").GetString(), Is.EqualTo("********"));
        using (var db = app.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT secret || config FROM alert_channels"), Does.Not.Contain(SmtpTestServer.Password), "encrypted at rest");

        var test = await (await admin.PostAsync($"/api/alerts/channels/{channel}/test", null)).JsonAsync();
        Assert.That(test.GetProperty("ok").GetBoolean(), test.ToString());
        var mail = smtp.Messages().Single();
        Assert.That(mail, Does.Contain("X-Tls: True").And.Contain($"X-Authenticated-As: {SmtpTestServer.User}").And.Contain("X-Envelope-To: ops@example.test"));
        Assert.That(mail, Does.Contain("Subject: Test alert from Sanctum (mail)"));

        // The disk is "low" below long.MaxValue bytes: the disk.low rule mails once a day.
        await CreateAsync(admin, "/api/alerts/rules", new { name = "disk", @event = "disk.low", channel_ids = new[] { channel } });
        await Engine(app).RunOnceAsync();
        await Engine(app).RunOnceAsync();
        Assert.That(smtp.Messages(), Has.Count.EqualTo(2));
        Assert.That(smtp.Messages()[1], Does.Contain("Subject: Low disk:").And.Contain("Event: disk.low"));

        // A wrong password: the test send says why, and nothing is delivered.
        (await admin.PatchAsJsonAsync($"/api/alerts/channels/{channel}", new { smtp_password = "wrong-password" })).EnsureSuccessStatusCode();
        var refused = await (await admin.PostAsync($"/api/alerts/channels/{channel}/test", null)).JsonAsync();
        Assert.That(refused.GetProperty("ok").GetBoolean(), Is.False);
        Assert.That(refused.GetProperty("error").GetString(), Does.Contain("535").Or.Contain("uthentication"));
        Assert.That(smtp.Messages(), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task ChannelsAndRulesRefuseBadInputAndShowSecretsMasked()
    {
        var clock = Clock();
        using var app = App(clock);
        var admin = await app.CreateAdminClientAsync();
        var problem = await (await admin.PostAsJsonAsync("/api/alerts/channels", new { name = "x", type = "webhook", url = "ftp://example.test/hook", secret = "short" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[] { "url", "secret" }));
        await (await admin.PostAsJsonAsync("/api/alerts/channels", new { name = "x", type = "email", smtp_host = "mail", from = "not an address", to = new[] { "a@b.test" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PostAsJsonAsync("/api/alerts/channels", new { name = "x", type = "webhook", url = "https://example.test/hook", secret = Secret, smtp_host = "mail" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PostAsJsonAsync("/api/alerts/rules", new { name = "r", @event = "status", grace_seconds = 3601, channel_ids = new[] { 1 } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PostAsJsonAsync("/api/alerts/rules", new { name = "r", @event = "status", channel_ids = new[] { 999 } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        using (var db = app.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT (SELECT COUNT(*) FROM alert_channels) + (SELECT COUNT(*) FROM alert_rules)"), Is.Zero);

        var id = await CreateAsync(admin, "/api/alerts/channels", new { name = "hook", type = "webhook", url = "https://example.test/hook", secret = Secret });
        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/alerts/channels");
        Assert.That(listed.ToString(), Does.Not.Contain(Secret));
        Assert.That(listed[0].GetProperty("secret").GetString(), Is.EqualTo("********"));
        (await admin.PatchAsJsonAsync($"/api/alerts/channels/{id}", new { name = "hook two", secret = "********" })).EnsureSuccessStatusCode();
        var resolved = app.Services.GetRequiredService<AlertChannels>();
        using (var db = app.Services.GetRequiredService<Sanctum.Api.Data.Database>().Open())
            Assert.That((await resolved.ResolveAsync(db, id))!.Secret, Is.EqualTo(Secret), "the mask keeps the stored secret");
        await CreateAsync(admin, "/api/alerts/channels", new { name = "other", type = "webhook", url = "https://example.test/hook", secret = Secret });
        await (await admin.PatchAsJsonAsync($"/api/alerts/channels/{id}", new { name = "OTHER" })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await admin.PatchAsJsonAsync($"/api/alerts/channels/{id}", new { type = "email" })).AssertProblemAsync(HttpStatusCode.BadRequest);

        var rule = await CreateAsync(admin, "/api/alerts/rules", new { name = "agents", @event = "status", kinds = new[] { "agent" }, channel_ids = new[] { id } });
        var shown = await admin.GetFromJsonAsync<JsonElement>($"/api/alerts/rules/{rule}");
        Assert.That(shown.GetProperty("statuses").EnumerateArray().Select(s => s.GetString()), Is.EqualTo(new[] { "Degraded", "Off" }));
        Assert.That(shown.GetProperty("grace_seconds").GetInt32(), Is.EqualTo(120));
        Assert.That(shown.GetProperty("channel_ids")[0].GetInt64(), Is.EqualTo(id));
        Assert.That((await admin.DeleteAsync($"/api/alerts/channels/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>($"/api/alerts/rules/{rule}")).GetProperty("channel_ids").GetArrayLength(), Is.Zero);
        Assert.That((await admin.DeleteAsync($"/api/alerts/rules/{rule}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That((await admin.GetAsync($"/api/alerts/rules/{rule}")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var viewer = await app.CreateClientForRoleAsync("viewer");
        Assert.That((await viewer.GetAsync("/api/alerts/channels")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }
}
