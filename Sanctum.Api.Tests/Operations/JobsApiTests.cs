using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sanctum.Api.Jobs;

namespace Sanctum.Api.Tests.Operations;

public class JobsApiTests
{
    private const string FakeClock = "FakeClock";

    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;
    private FakeTimeProvider? _clock;

    // These tests are refused or touch only users of their own: they share one host (and its admin session), made when
    // the first of them runs.
    private static readonly string[] SharingAHost = [nameof(AnInvalidJobIsRefusedWithTheFieldAndNothingIsStored), nameof(OnlyAdminsReachJobs)];
    private (SanctumApplication App, HttpClient Admin)? _shared;

    [OneTimeTearDown]
    public void StopShared() => _shared?.App.Dispose();

    // A test marked [Property(FakeClock, "yes")] gets a host whose clock moves only when the test advances it.
    [SetUp]
    public async Task Start()
    {
        if (SharingAHost.Contains(TestContext.CurrentContext.Test.MethodName))
        {
            if (_shared is null)
            {
                var app = new SanctumApplication();
                _shared = (app, await app.CreateAdminClientAsync());
            }
            (_app, _admin) = _shared.Value;
            _clock = null;
            // What a host of its own would have checked at its sign-in: the shared admin session still holds, so the
            // test's requests reach validation rather than a 401.
            Assert.That((await _admin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the shared admin session ended");
            return;
        }
        _clock = TestContext.CurrentContext.Test.Properties.ContainsKey(FakeClock)
            ? new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()))
            : null;
        _app = _clock is { } clock ? new SanctumApplication { TestServices = s => s.AddSingleton<TimeProvider>(clock) } : new SanctumApplication();
        _admin = await _app.CreateAdminClientAsync();
    }

    [TearDown]
    public void Stop()
    {
        if (_app != _shared?.App) _app.Dispose();
    }

    private async Task<JsonElement> WaitForRunAsync(long jobId, long runId)
    {
        // The run goes on in the background after the 202: wait for the runner to finish its runs, then read it once.
        await _app.Services.GetRequiredService<JobRunner>().WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var run = (await _admin.GetFromJsonAsync<JsonElement>($"/api/jobs/{jobId}/runs")).EnumerateArray().Single(r => r.GetProperty("id").GetInt64() == runId);
        Assert.That(run.GetProperty("outcome").ValueKind, Is.Not.EqualTo(JsonValueKind.Null), $"run {runId} of job {jobId} has no outcome once the runner is idle");
        return run;
    }

    private async Task<JsonElement> RunNowAsync(long jobId)
    {
        var response = await _admin.PostAsync($"/api/jobs/{jobId}/run", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var started = await response.JsonAsync();
        Assert.That(started.GetProperty("trigger").GetString(), Is.EqualTo("manual"));
        return await WaitForRunAsync(jobId, started.GetProperty("id").GetInt64());
    }

    private async Task<JsonElement> CreateAsync(object body)
    {
        var response = await _admin.PostAsJsonAsync("/api/jobs", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    [Test]
    public async Task AFreshInstallHasADailyBackupAndADailySessionPurgeWithTheirNextRuns()
    {
        var jobs = (await _admin.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().ToList();
        var backup = jobs.Single(j => j.GetProperty("kind").GetString() == "backup");
        Assert.That(backup.GetProperty("schedule").GetString(), Is.EqualTo("0 3 * * *"));
        Assert.That(backup.GetProperty("schedule_text").GetString(), Is.EqualTo("Every day at 03:00 (UTC)"));
        Assert.That(backup.GetProperty("params").GetProperty("keep").GetInt32(), Is.EqualTo(7));
        Assert.That(backup.GetProperty("enabled").GetBoolean(), Is.True);
        var purge = jobs.Single(j => j.GetProperty("kind").GetString() == "purge-sessions");
        Assert.That(purge.GetProperty("enabled").GetBoolean(), Is.True);

        // The scheduler plans them at start-up: the next 03:00 UTC.
        _app.Services.GetRequiredService<JobScheduler>().Tick();
        backup = await _admin.GetFromJsonAsync<JsonElement>($"/api/jobs/{backup.GetProperty("id").GetInt64()}");
        var next = DateTimeOffset.Parse(backup.GetProperty("next_run_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That((next.Hour, next.Minute, next.Second), Is.EqualTo((3, 0, 0)));
        Assert.That(next, Is.GreaterThan(DateTimeOffset.UtcNow).And.LessThanOrEqualTo(DateTimeOffset.UtcNow.AddDays(1)));

        var kinds = (await _admin.GetFromJsonAsync<JsonElement>("/api/jobs/kinds")).EnumerateArray().Select(k => k.GetProperty("kind").GetString());
        Assert.That(kinds, Is.SupersetOf(new[] { "backup", "chat-retention", "purge-sessions" }));
    }

    private static IEnumerable<TestCaseData> InvalidJobs()
    {
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * *"}""", "schedule").SetName("A schedule of four fields is 400 on schedule");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"61 3 * * *"}""", "schedule").SetName("Minute 61 is 400 on schedule");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * * * *"}""", "schedule").SetName("A six-field schedule is 400 on schedule");
        yield return new TestCaseData("""{"name":"x","kind":"backup"}""", "schedule").SetName("A missing schedule is 400 on schedule");
        yield return new TestCaseData("""{"name":"x","kind":"rm-rf","schedule":"0 3 * * *"}""", "kind").SetName("An unknown kind is 400 on kind");
        yield return new TestCaseData("""{"kind":"backup","schedule":"0 3 * * *"}""", "name").SetName("A missing name is 400 on name");
        yield return new TestCaseData("""{"name":"  ","kind":"backup","schedule":"0 3 * * *"}""", "name").SetName("A blank name is 400 on name");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * * *","params":{"keep":0}}""", "params.keep").SetName("keep 0 is 400 on params.keep");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * * *","params":{"keep":"7"}}""", "params.keep").SetName("keep as a string is 400 on params.keep");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * * *","params":{"kep":7}}""", "params.kep").SetName("A misspelt param is 400 on it");
        yield return new TestCaseData("""{"name":"x","kind":"chat-retention","schedule":"0 3 * * *"}""", "params.days").SetName("chat-retention without days is 400 on params.days");
        yield return new TestCaseData("""{"name":"x","kind":"chat-retention","schedule":"0 3 * * *","params":{"days":1.5}}""", "params.days").SetName("Fractional days are 400 on params.days");
        yield return new TestCaseData("""{"name":"x","kind":"backup","schedule":"0 3 * * *","params":[1]}""", "params").SetName("params as an array is 400 on params");
    }

    [TestCaseSource(nameof(InvalidJobs))]
    public async Task AnInvalidJobIsRefusedWithTheFieldAndNothingIsStored(string body, string field)
    {
        var problem = await (await _admin.PostAsync("/api/jobs", Support.JsonBody(body))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
        using var db = _app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM jobs"), Is.EqualTo(2));
    }

    [Test]
    public async Task AJobCanBeEditedPausedResumedAndDeleted()
    {
        var job = await CreateAsync(new { name = "Old chats", kind = "chat-retention", schedule = "*/15 * * * *", @params = new { days = 30 } });
        var id = job.GetProperty("id").GetInt64();
        Assert.That(job.GetProperty("schedule_text").GetString(), Is.EqualTo("Every 15 minutes (UTC)"));
        Assert.That(job.GetProperty("next_run_at").GetString(), Is.Not.Null);
        await (await _admin.PostAsJsonAsync("/api/jobs", new { name = "old chats", kind = "backup", schedule = "0 1 * * *" })).AssertProblemAsync(HttpStatusCode.Conflict);

        var paused = await (await _admin.PatchAsJsonAsync($"/api/jobs/{id}", new { enabled = false })).JsonAsync();
        Assert.That(paused.GetProperty("enabled").GetBoolean(), Is.False);
        Assert.That(paused.GetProperty("next_run_at").ValueKind, Is.EqualTo(JsonValueKind.Null));

        var resumed = await (await _admin.PatchAsJsonAsync($"/api/jobs/{id}", new { enabled = true, schedule = "0 9 * * 1-5", @params = new { days = 90 } })).JsonAsync();
        Assert.That(resumed.GetProperty("schedule_text").GetString(), Is.EqualTo("Monday to Friday at 09:00 (UTC)"));
        Assert.That(resumed.GetProperty("params").GetProperty("days").GetInt32(), Is.EqualTo(90));
        Assert.That(resumed.GetProperty("next_run_at").GetString(), Does.EndWith("T09:00:00Z"));

        await (await _admin.PatchAsJsonAsync($"/api/jobs/{id}", new { @params = new { days = 0 } })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await _admin.PatchAsJsonAsync($"/api/jobs/{id}", new { kind = "backup", @params = new { days = 3 } })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That((await _admin.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}")).GetProperty("params").GetProperty("days").GetInt32(), Is.EqualTo(90));

        Assert.That((await _admin.DeleteAsync($"/api/jobs/{id}")).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        await (await _admin.GetAsync($"/api/jobs/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _admin.PostAsync($"/api/jobs/{id}/run", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test, Property(FakeClock, "yes")]
    public async Task TheBackupJobKeepsOnlyTheNewestScheduledBackups()
    {
        var job = await CreateAsync(new { name = "Frequent backup", kind = "backup", schedule = "0 * * * *", @params = new { keep = 2 } });
        var manual = await BackupZips.CreateAsync(_admin);
        for (var i = 0; i < 3; i++)
        {
            var run = await RunNowAsync(job.GetProperty("id").GetInt64());
            Assert.That(run.GetProperty("outcome").GetString(), Is.EqualTo("ok"), run.ToString());
            Assert.That(run.GetProperty("duration_ms").GetInt64(), Is.GreaterThanOrEqualTo(0));
            _clock!.Advance(TimeSpan.FromSeconds(1)); // names carry the second
        }
        var backups = (await _admin.GetFromJsonAsync<JsonElement>("/api/backups")).EnumerateArray().ToList();
        Assert.That(backups.Count(b => b.GetProperty("kind").GetString() == "scheduled"), Is.EqualTo(2));
        Assert.That(backups.Select(b => b.GetProperty("name").GetString()), Does.Contain(manual), "keep only prunes scheduled backups");
        var last = (await _admin.GetFromJsonAsync<JsonElement>($"/api/jobs/{job.GetProperty("id").GetInt64()}")).GetProperty("last_run");
        Assert.That(last.GetProperty("message").GetString(), Does.Contain("removed 1 older"));
    }

    [Test]
    public async Task PurgeSessionsRemovesOnlyExpiredSessions()
    {
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO user_sessions (id, user_id, session_token, expires_at) VALUES ('old', 1, 'h-old', '2020-01-01T00:00:00Z')");
        var purge = (await _admin.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().Single(j => j.GetProperty("kind").GetString() == "purge-sessions");
        var run = await RunNowAsync(purge.GetProperty("id").GetInt64());
        Assert.That(run.GetProperty("message").GetString(), Is.EqualTo("Removed 1 expired session(s)."));
        using var check = _app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions WHERE id = 'old'"), Is.Zero);
        Assert.That((await _admin.GetAsync("/api/auth/me")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "the live session stays");
    }

    [Test]
    public async Task ChatRetentionRemovesMessagesAndRepliesOlderThanItsDays()
    {
        using (var db = _app.OpenDatabase())
        {
            db.Execute("INSERT INTO web_chat_sessions (id, uid) VALUES ('s1', 'u1')");
            db.Execute("INSERT INTO web_chat_messages (id, session_id, message, timestamp) VALUES (1, 's1', 'old', '2020-01-01T00:00:00Z'), (2, 's1', 'new', @now)",
                new { now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
            db.Execute("INSERT INTO web_chat_responses (session_id, message_id, response, timestamp) VALUES ('s1', 1, 'old reply', '2020-01-01T00:00:01Z')");
        }
        var job = await CreateAsync(new { name = "Chat retention", kind = "chat-retention", schedule = "0 4 * * *", @params = new { days = 30 } });
        var run = await RunNowAsync(job.GetProperty("id").GetInt64());
        Assert.That(run.GetProperty("outcome").GetString(), Is.EqualTo("ok"), run.ToString());
        using var check = _app.OpenDatabase();
        Assert.That(check.Query<string>("SELECT message FROM web_chat_messages"), Is.EqualTo(new[] { "new" }));
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM web_chat_responses"), Is.Zero);
    }

    [Test]
    public async Task AJobNeverRunsTwiceAtOnceEvenFromTwoProcessesOnOneDatabase()
    {
        await using var other = new SanctumApplication(dataDirectory: _app.DataDirectory);
        var here = _app.Services.GetRequiredService<JobRunner>();
        var there = other.Services.GetRequiredService<JobRunner>();
        Assert.That(here.Owner, Is.Not.EqualTo(there.Owner));

        var run = here.TryStart(2, "manual");
        Assert.That(run, Is.Not.Null);
        Assert.That(there.TryStart(2, "manual"), Is.Null, "the lease in the database stops the other process");
        Assert.That(here.TryStart(2, "manual"), Is.Null, "and this one");
        var otherAdmin = await other.CreateAdminClientAsync();
        await (await otherAdmin.PostAsync("/api/jobs/2/run", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.That((await otherAdmin.GetFromJsonAsync<JsonElement>("/api/jobs/2")).GetProperty("running").GetBoolean(), Is.True);

        await here.RunAsync(run!);
        Assert.That(there.TryStart(2, "manual"), Is.Not.Null, "once the run ends the lease is free");
    }

    [Test]
    public async Task AnExpiredLeaseOfACrashedProcessDoesNotBlockTheJob()
    {
        using (var db = _app.OpenDatabase())
            db.Execute("UPDATE jobs SET lease_owner = 'crashed/1/x', lease_until = '2020-01-01T00:00:00Z' WHERE id = 2");
        var run = await RunNowAsync(2);
        Assert.That(run.GetProperty("outcome").GetString(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task EachDueOccurrenceRunsOnceHoweverManyProcessesSeeIt()
    {
        await using var other = new SanctumApplication(dataDirectory: _app.DataDirectory);
        _ = other.Services;
        using (var db = _app.OpenDatabase())
            db.Execute("UPDATE jobs SET next_run_at = @due WHERE id = 2",
                new { due = DateTime.UtcNow.AddSeconds(-5).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) });
        _app.Services.GetRequiredService<JobScheduler>().Tick();
        other.Services.GetRequiredService<JobScheduler>().Tick();
        await _app.Services.GetRequiredService<JobRunner>().WhenIdleAsync();
        await other.Services.GetRequiredService<JobRunner>().WhenIdleAsync();

        var runs = (await _admin.GetFromJsonAsync<JsonElement>("/api/jobs/2/runs")).EnumerateArray().ToList();
        Assert.That(runs, Has.Count.EqualTo(1));
        Assert.That(runs[0].GetProperty("trigger").GetString(), Is.EqualTo("schedule"));
    }

    [Test]
    public async Task AJobMissedWhileTheServiceWasDownRunsOnceAtStartUp()
    {
        var directory = SanctumApplication.NewDataDirectory();
        try
        {
            await using (var first = new SanctumApplication(dataDirectory: directory))
            {
                _ = first.Services;
                using var db = first.OpenDatabase();
                db.Execute("UPDATE jobs SET next_run_at = '2020-01-01T03:30:00Z' WHERE kind = 'purge-sessions'");
            }
            await using var second = new SanctumApplication(dataDirectory: directory);
            var admin = await second.CreateAdminClientAsync();
            List<JsonElement> runs = [];
            for (var i = 0; i < 200 && runs.Count == 0; i++)
            {
                await Task.Delay(50);
                runs = (await admin.GetFromJsonAsync<JsonElement>("/api/jobs/2/runs")).EnumerateArray().ToList();
            }
            Assert.That(runs, Has.Count.EqualTo(1), "the missed run ran at start-up");
            Assert.That(runs[0].GetProperty("trigger").GetString(), Is.EqualTo("missed"));

            second.Services.GetRequiredService<JobScheduler>().Tick();
            await second.Services.GetRequiredService<JobRunner>().WhenIdleAsync();
            Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/jobs/2/runs")).GetArrayLength(), Is.EqualTo(1), "once, not once per missed day");
            var next = (await admin.GetFromJsonAsync<JsonElement>("/api/jobs/2")).GetProperty("next_run_at").GetString()!;
            Assert.That(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(DateTimeOffset.UtcNow));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task SchedulesAreReadInTheConfiguredTimeZone()
    {
        await using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:TimeZone"] = "Europe/Berlin" });
        var admin = await app.CreateAdminClientAsync();
        var job = await (await admin.PostAsJsonAsync("/api/jobs", new { name = "Berlin", kind = "purge-sessions", schedule = "0 3 * * *" })).JsonAsync();
        Assert.That(job.GetProperty("schedule_text").GetString(), Is.EqualTo("Every day at 03:00 (Europe/Berlin)"));
        var next = DateTimeOffset.Parse(job.GetProperty("next_run_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var berlin = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        Assert.That((berlin.Hour, berlin.Minute), Is.EqualTo((3, 0)));
        Assert.That(next.Hour, Is.Not.EqualTo(3), "03:00 in Berlin is not 03:00 UTC");
    }

    [Test]
    public async Task AnUnknownTimeZoneStopsStartUpWithItsSetting()
    {
        // The real server: invalid options end the start with one line naming the setting (Data/StartupChecks.cs).
        var directory = Evidence.ServerProcess.NewDataDirectory();
        try
        {
            var (exitCode, output) = await Evidence.ServerProcess.RunToExitAsync(directory, new Dictionary<string, string> { ["Sanctum:TimeZone"] = "Mars/Olympus_Mons" });
            Assert.That(exitCode, Is.EqualTo(1), output);
            Assert.That(output, Does.Contain("Sanctum:TimeZone"));
        }
        finally
        {
            Evidence.ServerProcess.DeleteDataDirectory(directory);
        }
    }

    [Test]
    public async Task OnlyAdminsReachJobs()
    {
        foreach (var role in new[] { "user", "viewer" })
        {
            var client = await _app.CreateClientForRoleAsync(role);
            foreach (var (method, url) in new[] { ("GET", "/api/jobs"), ("GET", "/api/jobs/1"), ("POST", "/api/jobs/1/run"), ("DELETE", "/api/jobs/1"), ("GET", "/api/jobs/1/runs") })
                Assert.That((await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url))).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), $"{role} {method} {url}");
        }
    }
}
