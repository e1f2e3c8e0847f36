using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Sanctum.Api.Tests.Events;
using Sanctum.Api.Jobs;
using Sanctum.Api.Logs;

namespace Sanctum.Api.Tests.Logs;

/// <summary>The service's own log lines: kept in their own SQLite file, filtered, paged, downloaded, bounded, and free of secrets.</summary>
public class LogStoreTests
{
    private static ILogger Logger(SanctumApplication app, string category) =>
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(category);

    [Test]
    public async Task LinesAreFilteredByLevelAndAboveSearchedAndPagedByCursor()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var marker = "marker-" + Guid.NewGuid().ToString("N")[..8];
        var log = Logger(app, "Sanctum.Tests.Probe");
        log.LogInformation("{Marker} one information", marker);
        log.LogWarning(new EventId(4242, "ProbeWarning"), "{Marker} two warning with {Count}", marker, 7);
        log.LogError("{Marker} three error", marker);
        log.LogCritical("{Marker} four critical", marker);

        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/logs?search={marker}&level=Warning");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.That(items.Select(i => i.GetProperty("level").GetString()), Is.EqualTo(new[] { "Critical", "Error", "Warning" }), "newest first, Warning and above");
        var warning = items[2];
        Assert.That(warning.GetProperty("message").GetString(), Is.EqualTo($"{marker} two warning with 7"));
        Assert.That(warning.GetProperty("category").GetString(), Is.EqualTo("Sanctum.Tests.Probe"));
        Assert.That(warning.GetProperty("event_id").GetInt32(), Is.EqualTo(4242));
        Assert.That(warning.GetProperty("properties").GetProperty("Count").GetString(), Is.EqualTo("7"));
        Assert.That(DateTimeOffset.Parse(warning.GetProperty("at").GetString()!), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));

        // Pages of one: each next_cursor leads to the next older line, and the last page has none.
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var one = await admin.GetFromJsonAsync<JsonElement>($"/api/logs?search={marker}&limit=1" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(one.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("level").GetString()!));
            cursor = one.GetProperty("next_cursor") is { ValueKind: JsonValueKind.Number } next ? next.GetInt64().ToString() : null;
        } while (cursor is not null);
        Assert.That(seen, Is.EqualTo(new[] { "Critical", "Error", "Warning", "Information" }));

        // A category filter is a dotted prefix.
        var byCategory = await admin.GetFromJsonAsync<JsonElement>($"/api/logs?category=Sanctum.Tests&search={marker}");
        Assert.That(byCategory.GetProperty("items").GetArrayLength(), Is.EqualTo(4));
        var otherCategory = await admin.GetFromJsonAsync<JsonElement>($"/api/logs?category=Sanctum.Test&search={marker}");
        Assert.That(otherCategory.GetProperty("items").GetArrayLength(), Is.Zero);

        await (await admin.GetAsync("/api/logs?level=Loud")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.GetAsync("/api/logs?limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest);
        var viewer = await app.CreateClientForRoleAsync("viewer");
        Assert.That((await viewer.GetAsync("/api/logs")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(File.Exists(Path.Combine(app.DataDirectory, "logs", "sanctum-logs.db")), "a file of its own in the data directory");
    }

    [Test]
    public async Task ADownloadIsTheRangeAsJsonLinesOldestFirst()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var marker = "dl-" + Guid.NewGuid().ToString("N")[..8];
        var log = Logger(app, "Sanctum.Tests.Download");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i < 5; i++) log.LogWarning("{Marker} line {N}", marker, i);
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        var response = await admin.GetAsync($"/api/logs/download?search={marker}&since={Uri.EscapeDataString(before.ToString("O"))}&until={Uri.EscapeDataString(until.ToString("O"))}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/x-ndjson"));
        Assert.That(response.Content.Headers.ContentDisposition?.FileName, Does.EndWith(".jsonl"));
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("message").GetString()), Is.EqualTo(Enumerable.Range(0, 5).Select(i => $"{marker} line {i}")));

        var empty = await admin.GetAsync($"/api/logs/download?search={marker}&until={Uri.EscapeDataString(before.ToString("O"))}");
        Assert.That(await empty.Content.ReadAsStringAsync(), Is.Empty, "nothing before the range");
    }

    [Test]
    public async Task ASecretSetThroughTheApiNeverReachesTheStore()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var secret = "sk-never-logged-" + Guid.NewGuid().ToString("N");
        (await admin.PutAsJsonAsync("/api/config/openai_api_key", new { value = secret })).EnsureSuccessStatusCode();
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/config/openai_api_key?reveal=true")).ToString(), Does.Contain(secret), "the secret is stored");
        // A careless line naming its property for what it is: masked in properties and message alike.
        Logger(app, "Sanctum.Tests.Careless").LogWarning("Connecting with {Password} and {ApiKey}", secret, secret);
        var careless = await admin.GetFromJsonAsync<JsonElement>("/api/logs?category=Sanctum.Tests.Careless");
        Assert.That(careless.GetProperty("items")[0].GetProperty("message").GetString(), Is.EqualTo("Connecting with ******** and ********"));
        Assert.That(careless.GetProperty("items")[0].GetProperty("properties").GetProperty("Password").GetString(), Is.EqualTo("********"));

        // Every line of the store, and its raw files, searched for the secret.
        Assert.That((await admin.GetFromJsonAsync<JsonElement>($"/api/logs?search={secret}")).GetProperty("items").GetArrayLength(), Is.Zero);
        Assert.That((await admin.GetFromJsonAsync<JsonElement>("/api/logs?limit=1000")).GetProperty("items").GetArrayLength(), Is.GreaterThan(1));
        foreach (var file in Directory.GetFiles(Path.Combine(app.DataDirectory, "logs")))
        {
            string text;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
                text = await reader.ReadToEndAsync();
            }
            catch (FileNotFoundException)
            {
                // The -wal or -shm file, removed when the store's last connection closed after the listing: nothing left to leak.
                continue;
            }
            Assert.That(text, Does.Not.Contain(secret), file);
        }
    }

    [Test]
    public async Task AJobRunsLinesCarryItsId()
    {
        using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var jobs = (await admin.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().ToList();
        var purge = jobs.Single(j => j.GetProperty("kind").GetString() == "purge-sessions").GetProperty("id").GetInt64();
        var started = await (await admin.PostAsync($"/api/jobs/{purge}/run", null)).JsonAsync();
        var runId = started.GetProperty("id").GetInt64();
        await app.Services.GetRequiredService<JobRunner>().WhenIdleAsync();

        var lines = (await admin.GetFromJsonAsync<JsonElement>($"/api/logs?job_run_id={runId}")).GetProperty("items").EnumerateArray().ToList();
        Assert.That(lines, Is.Not.Empty);
        Assert.That(lines.Select(l => l.GetProperty("job_run_id").GetInt64()), Is.All.EqualTo(runId));
        Assert.That(lines.Select(l => l.GetProperty("message").GetString()), Has.Some.Contains($"run {runId} (purge-sessions) ended ok"));
        Assert.That((await admin.GetFromJsonAsync<JsonElement>($"/api/logs?job_run_id={runId + 1000}")).GetProperty("items").GetArrayLength(), Is.Zero);
    }

    [Test]
    public async Task TheStoreStaysWithinItsSizeLimitDroppingTheOldest()
    {
        using var app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:Logs:MaxBytes"] = "131072" });
        var admin = await app.CreateAdminClientAsync();
        var log = Logger(app, "Sanctum.Tests.Flood");
        var padding = new string('x', 400);
        for (var i = 0; i < 3000; i++)
        {
            log.LogWarning("flood {N} {Padding}", i, padding);
            if (i % 500 == 499) await app.Services.GetRequiredService<LogStore>().FlushAsync(TimeSpan.FromSeconds(30));
        }
        var newest = await admin.GetFromJsonAsync<JsonElement>("/api/logs?category=Sanctum.Tests.Flood&limit=1");
        Assert.That(newest.GetProperty("items")[0].GetProperty("message").GetString(), Does.StartWith("flood 2999 "));
        var oldest = await admin.GetFromJsonAsync<JsonElement>("/api/logs?search=flood%200%20x");
        Assert.That(oldest.GetProperty("items").GetArrayLength(), Is.Zero, "the oldest lines went first");

        var store = app.Services.GetRequiredService<LogStore>();
        using var db = store.Open();
        var (pages, free, size) = db.QuerySingle<(long, long, long)>(
            "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)");
        Assert.That((pages - free) * size, Is.LessThanOrEqualTo(131072 + 500 * 1024), "live pages within the limit plus one batch");
        Assert.That(new FileInfo(store.FilePath).Length, Is.LessThan(3000 * 400), "the file did not keep all 1.2 MB of lines");
    }

    private static (SanctumApplication App, FakeTimeProvider Clock) WithClock(Dictionary<string, string?>? settings = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        return (new SanctumApplication(settings) { TestServices = s => s.AddSingleton<TimeProvider>(clock) }, clock);
    }

    [Test]
    public async Task WrittenLinesAreAnnouncedToAdminsOnTheLogsTopicOnceASecondAtMost()
    {
        var (app, clock) = WithClock();
        using var _ = app;
        var admin = await app.CreateAdminClientAsync();
        var viewer = await app.CreateClientForRoleAsync("viewer");
        var (_, refused) = await EventStream.OpenAsync(viewer, "logs");
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        await using var stream = await EventStream.OpenOkAsync(admin, "logs");
        var store = app.Services.GetRequiredService<LogStore>();
        var log = Logger(app, "Sanctum.Tests.Tail");

        for (var i = 0; i < 20; i++) log.LogWarning("tail line {Index}", i);
        await store.FlushAsync(TimeSpan.FromSeconds(10));
        // Written, but announced only when the second is over: one event for the whole burst.
        clock.Advance(LogStoreWriter.AnnounceEvery);
        var first = await stream.NextAsync(e => e.Name == "logs.appended");
        Assert.That(first.Data.GetProperty("count").GetInt64(), Is.GreaterThanOrEqualTo(20));

        log.LogWarning("one more line");
        await store.FlushAsync(TimeSpan.FromSeconds(10));
        clock.Advance(LogStoreWriter.AnnounceEvery);
        var second = await stream.NextAsync(e => e.Name == "logs.appended");
        Assert.That(second.Data.GetProperty("count").GetInt64(), Is.GreaterThanOrEqualTo(1).And.LessThan(20), "only what came after the first announcement");
    }

    [Test]
    public async Task LinesOlderThanTheAgeLimitArePruned()
    {
        var (app, clock) = WithClock(new() { ["Sanctum:Logs:MaxAge"] = "01:00:00" });
        using var _ = app;
        var admin = await app.CreateAdminClientAsync();
        var store = app.Services.GetRequiredService<LogStore>();
        var marker = "aged-" + Guid.NewGuid().ToString("N")[..8];
        var log = Logger(app, "Sanctum.Tests.Age");

        log.LogWarning("{Marker} written two hours ago", marker);
        await store.FlushAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromMinutes(61));
        log.LogWarning("{Marker} written an hour ago", marker);
        await store.FlushAsync(TimeSpan.FromSeconds(10));
        clock.Advance(TimeSpan.FromMinutes(59));
        log.LogWarning("{Marker} written now", marker);
        await store.FlushAsync(TimeSpan.FromSeconds(10));

        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/logs?search={marker}&level=Warning");
        Assert.That(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("message").GetString()),
            Is.EqualTo(new[] { $"{marker} written now", $"{marker} written an hour ago" }), "the line past one hour is gone, the others stay");
    }
}
