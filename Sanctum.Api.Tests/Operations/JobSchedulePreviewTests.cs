namespace Sanctum.Api.Tests.Operations;

/// <summary>GET /api/jobs/schedule reads a schedule back before it is saved; GET /api/jobs/kinds names each kind's params.</summary>
public class JobSchedulePreviewTests
{
    [Test]
    public async Task AScheduleIsReadBackInWordsWithItsNextFiveRuns()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var before = DateTimeOffset.UtcNow;
        var read = await admin.GetFromJsonAsync<JsonElement>("/api/jobs/schedule?schedule=" + Uri.EscapeDataString("*/15 * * * *"));
        Assert.That(read.GetProperty("schedule_text").GetString(), Is.EqualTo("Every 15 minutes (UTC)"));
        var runs = read.GetProperty("next_runs").EnumerateArray().Select(r => DateTimeOffset.Parse(r.GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(runs, Has.Count.EqualTo(5));
        Assert.That(runs[0], Is.GreaterThan(before));
        Assert.That(runs.Zip(runs.Skip(1), (a, b) => b - a), Has.All.EqualTo(TimeSpan.FromMinutes(15)));
        Assert.That(runs.Select(r => r.Minute % 15), Has.All.Zero);
    }

    [TestCase("61 * * * *", "Not a valid cron expression")]
    [TestCase("0 3 * *", "Must have 5 fields")]
    [TestCase("", "This field is required.")]
    public async Task AScheduleThatIsNotValidIsRefusedAtItsField(string schedule, string error)
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var response = await admin.GetAsync("/api/jobs/schedule?schedule=" + Uri.EscapeDataString(schedule));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("errors").GetProperty("schedule")[0].GetString(), Does.Contain(error));
    }

    [Test]
    public async Task EachKindNamesItsParamsWithTheirRangesAndDefaults()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var kinds = (await admin.GetFromJsonAsync<JsonElement>("/api/jobs/kinds")).EnumerateArray().ToDictionary(k => k.GetProperty("kind").GetString()!);
        var keep = kinds["backup"].GetProperty("params")[0];
        Assert.That((keep.GetProperty("name").GetString(), keep.GetProperty("minimum").GetInt32(), keep.GetProperty("maximum").GetInt32(), keep.GetProperty("default").GetInt32(), keep.GetProperty("required").GetBoolean()),
            Is.EqualTo(("keep", 1, 1000, 7, false)));
        var days = kinds["chat-retention"].GetProperty("params")[0];
        Assert.That((days.GetProperty("name").GetString(), days.GetProperty("default").ValueKind, days.GetProperty("required").GetBoolean()),
            Is.EqualTo(("days", JsonValueKind.Null, true)));
        Assert.That(kinds["purge-sessions"].GetProperty("params").GetArrayLength(), Is.Zero);
        Assert.That(kinds["audit-retention"].GetProperty("params")[0].GetProperty("name").GetString(), Is.EqualTo("keep_days"));
    }
}
