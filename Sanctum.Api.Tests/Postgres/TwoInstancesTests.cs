using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Jobs;
using Sanctum.Api.Tests.ChatBridge;

namespace Sanctum.Api.Tests.Postgres;

/// <summary>Two instances of the service on one PostgreSQL database, as behind a load balancer (<see cref="TwoInstances"/>).</summary>
[TestFixture]
public sealed class TwoInstancesTests
{
    private TwoInstances? _instances;
    private SanctumApplication _first = null!, _second = null!;

    [OneTimeSetUp]
    public void Start()
    {
        TestEngine.RequirePostgres("several instances share one database server");
        _instances = new TwoInstances(new Dictionary<string, string?>
        {
            ["Sanctum:LoginPermitLimit"] = "12",
            ["Sanctum:LoginWindow"] = "01:00:00",
            ["Sanctum:ChatBridge:AnonymousMessagesPerHourPerAddress"] = "5",
        });
        (_first, _second) = (_instances.First, _instances.Second);
    }

    [OneTimeTearDown]
    public void Stop() => _instances?.Dispose();

    // The tests share the two instances, so each starts from the same limits whatever ran before it: the sign-in and
    // chat limits count every request of the fixture, and a test's own count must start at zero.
    [SetUp]
    public void ForgetEarlierRequests()
    {
        using var db = _first.OpenDatabase();
        db.Execute("DELETE FROM rate_limit_windows");
    }

    [Test]
    public async Task ASessionMadeOnOneInstanceWorksOnTheOther()
    {
        var admin = await _first.CreateAdminClientAsync();
        var token = admin.DefaultRequestHeaders.Authorization!.Parameter;
        var other = _second.CreateClient();
        other.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var me = await other.GetFromJsonAsync<JsonElement>("/api/auth/me");
        Assert.That(me.GetProperty("username").GetString(), Is.EqualTo("admin"));

        // The other instance learns of the sign-out when its listening connection hears the commit, pushed by the server
        // (about a millisecond); a request that comes first may still be served. So each time it hears a commit (the
        // sign-out's, or one of its own background work's), it is asked again, for up to 5 s.
        var heard = _second.Services.GetRequiredService<Sanctum.Api.Data.Database>().Commits;
        var seen = heard.Count;
        await admin.PostAsync("/api/auth/logout", null);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await other.GetAsync("/api/auth/me")).StatusCode) != HttpStatusCode.Unauthorized && stopwatch.Elapsed < TimeSpan.FromSeconds(5))
        {
            SpinWait.SpinUntil(() => heard.Count > seen, TimeSpan.FromSeconds(Math.Max(0, 5 - stopwatch.Elapsed.TotalSeconds)));
            seen = heard.Count;
        }
        Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized), "signed out everywhere, once the other instance heard the commit");
    }

    [Test]
    public async Task ASecretWrittenOnOneInstanceReadsOnTheOther()
    {
        var first = await _first.CreateAdminClientAsync();
        var second = await _second.CreateAdminClientAsync();
        var value = "shared-" + Guid.NewGuid().ToString("N");
        var put = await first.PutAsJsonAsync("/api/config/env/SHARED_SECRET", new { value, is_encrypted = true });
        Assert.That(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var read = await second.GetFromJsonAsync<JsonElement>("/api/config/env/SHARED_SECRET?reveal=true");
        Assert.That(read.GetProperty("value").GetString(), Is.EqualTo(value));
        using var db = _first.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT var_value FROM env_vars WHERE var_name = 'SHARED_SECRET'"), Is.Not.EqualTo(value).And.Not.Contain(value));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM data_protection_keys"), Is.EqualTo(1), "one key ring, made once");
        Assert.That(db.ExecuteScalar<string>("SELECT xml FROM data_protection_keys"), Does.Contain("sanctumEncryptedKey").And.Not.Contain("masterKey"),
            "the key is stored encrypted");
    }

    [Test]
    public async Task TheSignInLimitCountsAttemptsOnBothInstances()
    {
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 13; i++)
        {
            var app = i % 2 == 0 ? _first : _second;
            var response = await app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = "nobody", password = "wrong-password" });
            codes.Add(response.StatusCode);
        }
        // 7 attempts on one instance and 6 on the other: neither alone passes the limit of 12, together they do.
        Assert.That(codes.Take(12), Is.All.EqualTo(HttpStatusCode.Unauthorized), string.Join(", ", codes));
        Assert.That(codes[^1], Is.EqualTo(HttpStatusCode.TooManyRequests));
    }

    [Test]
    public async Task TheAnonymousChatLimitCountsMessagesOnBothInstances()
    {
        _first.AllowAnonymousChat();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var app = i % 2 == 0 ? _first : _second;
            var response = await app.CreateClient().PostMessageAsync(new { session_id = $"session_shared_{i}", message = "hello" });
            codes.Add(response.StatusCode);
        }
        // 3 messages on one instance and 2 on the other: neither alone empties the bucket of 5, together they do.
        Assert.That(codes, Is.All.EqualTo(HttpStatusCode.OK), string.Join(", ", codes));
        foreach (var app in new[] { _first, _second })
            await ChatBridgeTests.AssertRateLimitedAsync(
                await app.CreateClient().PostMessageAsync(new { session_id = "session_shared_x", message = "hello" }),
                "Rate limit exceeded: too many messages from this address", maxWait: 3600);
        using var check = _first.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM web_chat_messages"), Is.EqualTo(5));
    }

    [Test]
    public async Task ADueJobRunsOnceThoughBothInstancesSeeIt()
    {
        using (var db = _first.OpenDatabase())
            db.Execute("UPDATE jobs SET next_run_at = @due WHERE id = 2",
                new { due = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
        await Task.WhenAll(
            Task.Run(() => _first.Services.GetRequiredService<JobScheduler>().Tick()),
            Task.Run(() => _second.Services.GetRequiredService<JobScheduler>().Tick()));
        await _first.Services.GetRequiredService<JobRunner>().WhenIdleAsync();
        await _second.Services.GetRequiredService<JobRunner>().WhenIdleAsync();

        using var check = _first.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM job_runs WHERE job_id = 2 AND trigger = 'schedule'"), Is.EqualTo(1));
    }
}
