using Microsoft.Playwright;
using Microsoft.Extensions.DependencyInjection;

namespace Sanctum.Api.Tests.Browser;

public class CronSchedulerPageTests : BrowserTest
{
    // On both engines: the list reloads on live events, relayed through LISTEN/NOTIFY on PostgreSQL (a race there found a page bug).
    protected override string? EngineIndependent => null;

    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    private ILocator Row(string name) => Page.Locator($"tr[data-job-name=\"{name}\"]");

    [Test]
    public async Task TheDefaultJobsShowTheirScheduleInWordsAndNextRun()
    {
        await Page.GotoAsync("/cron-scheduler");
        await Expect(Row("Daily backup").Locator("[data-testid=schedule-text]")).ToHaveTextAsync("Every day at 03:00 (UTC)");
        await Expect(Row("Purge expired sessions").Locator("[data-testid=schedule-text]")).ToHaveTextAsync("Every day at 03:30 (UTC)");
        await Expect(Row("Daily backup").Locator("[data-testid=next-run]")).Not.ToHaveTextAsync("—");
        await Expect(Page).ToHaveTitleAsync("Scheduled jobs · Sanctum");
    }

    [Test]
    public async Task AJobIsAddedEditedPausedResumedRunAndDeleted()
    {
        await Page.GotoAsync("/cron-scheduler");
        await Page.FillAsync("input[name=name]", "Old chats");
        await Page.SelectOptionAsync("select[name=kind]", "chat-retention");
        await Page.FillAsync("input[name=schedule]", "0 3 * *");
        await Page.FillAsync("input[name=param_days]", "0");
        await Page.ClickAsync("[data-testid=save-job]");
        await Expect(Page.Locator("[data-error-for=schedule]")).ToContainTextAsync("Must have 5 fields");
        await Expect(Page.Locator("[data-error-for=param_days]")).ToContainTextAsync("from 1 to 3650");
        await Expect(Page.Locator("#notice")).ToBeHiddenAsync();

        await Page.FillAsync("input[name=schedule]", "*/30 * * * *");
        await Page.FillAsync("input[name=param_days]", "30");
        await Page.ClickAsync("[data-testid=save-job]");
        await Expect(Row("Old chats").Locator("[data-testid=schedule-text]")).ToHaveTextAsync("Every 30 minutes (UTC)");

        await Row("Old chats").Locator("[data-action=edit]").ClickAsync();
        await Expect(Page.Locator("input[name=param_days]")).ToHaveValueAsync("30");
        await Page.FillAsync("input[name=schedule]", "0 9 * * 1-5");
        await Page.ClickAsync("[data-testid=save-job]");
        await Expect(Row("Old chats").Locator("[data-testid=schedule-text]")).ToHaveTextAsync("Monday to Friday at 09:00 (UTC)");

        await Row("Old chats").Locator("[data-action=pause]").ClickAsync();
        await Expect(Row("Old chats").Locator("[data-testid=next-run]")).ToHaveTextAsync("paused");
        await Row("Old chats").Locator("[data-action=resume]").ClickAsync();
        await Expect(Row("Old chats").Locator("[data-testid=next-run]")).Not.ToHaveTextAsync("paused");

        await Row("Old chats").Locator("[data-action=run]").ClickAsync();
        await Expect(Row("Old chats").Locator("[data-testid=outcome]")).ToHaveTextAsync("ok", new() { Timeout = 20_000 });
        await Expect(Page.Locator("#history-title")).ToHaveTextAsync("Run history: Old chats");
        await Expect(Page.Locator("[data-testid=runs] [data-testid=run-message]")).ToContainTextAsync("older than 30 days");

        await Row("Old chats").Locator("[data-action=delete]").ClickAsync();
        await Row("Old chats").Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(Row("Old chats")).ToHaveCountAsync(0);
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM jobs WHERE name = 'Old chats'"), Is.Zero);
    }

    [Test]
    public async Task AQuestionAskedWhileTheListReloadsStaysUntilItIsAnswered()
    {
        // The list reloads when a run starts or ends anywhere (live events). A Delete asked while such a reload is on
        // its way must keep its question: before, the reload's answer redrew the rows and the open question vanished.
        using var admin = await AdminClientAsync();
        var created = await admin.PostAsJsonAsync("/api/jobs", new { name = "Asked about", kind = "purge-sessions", schedule = "0 4 * * *", enabled = false });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var hub = App.Services.GetRequiredService<Sanctum.Api.Events.EventHub>();
        var streams = hub.StreamCount;
        await Page.GotoAsync("/cron-scheduler");
        await Expect(Row("Asked about")).ToHaveCountAsync(1);
        // The run below reloads the list through the page's live stream: it must be open before.
        await hub.WaitForStreamCountAsync(n => n > streams, TimeSpan.FromSeconds(20));

        var release = new TaskCompletionSource();
        var reloading = new TaskCompletionSource();
        await Page.RouteAsync("**/api/jobs", async route =>
        {
            reloading.TrySetResult();
            await release.Task;
            await route.ContinueAsync();
        });
        (await admin.PostAsync($"/api/jobs/{id}/run", null)).EnsureSuccessStatusCode();
        await reloading.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await Row("Asked about").Locator("[data-action=delete]").ClickAsync();
        await Expect(Row("Asked about").Locator("[data-testid=confirm-yes]")).ToBeVisibleAsync();
        var answered = Page.WaitForResponseAsync(r => r.Url.EndsWith("/api/jobs", StringComparison.Ordinal));
        release.SetResult();
        await (await answered).FinishedAsync();
        // The page's own handling of that answer (its JSON, then the draw) runs before the next frame's timer.
        await Page.EvaluateAsync("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))");
        await Page.UnrouteAllAsync();

        await Row("Asked about").Locator("[data-testid=confirm-yes]").ClickAsync(new() { Timeout = 2_000 });
        await Expect(Row("Asked about")).ToHaveCountAsync(0);
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM jobs WHERE name = 'Asked about'"), Is.Zero);
    }

    [Test]
    public async Task TheScheduleIsReadBackWhileTypingAndEachKindsParamsAreFields()
    {
        await Page.GotoAsync("/cron-scheduler");
        await Page.SelectOptionAsync("select[name=kind]", "backup");
        await Expect(Page.Locator("input[name=param_keep]")).ToHaveValueAsync("7");
        await Expect(Page.Locator("label[for=" + await Page.Locator("input[name=param_keep]").GetAttributeAsync("id") + "]")).ToHaveTextAsync("Scheduled backups to keep");
        await Page.SelectOptionAsync("select[name=kind]", "purge-sessions");
        await Expect(Page.Locator("[data-testid=param-fields]")).ToHaveTextAsync("This kind takes no params.");
        await Page.SelectOptionAsync("select[name=kind]", "chat-retention");
        await Expect(Page.Locator("input[name=param_days]")).ToHaveValueAsync("");

        await Page.Locator("input[name=schedule]").PressSequentiallyAsync("0 9 * * 1-5");
        await Expect(Page.Locator("[data-testid=schedule-reading]")).ToHaveTextAsync("Monday to Friday at 09:00 (UTC)");
        var runs = Page.Locator("[data-testid=next-runs] li");
        await Expect(runs).ToHaveCountAsync(5);

        // A schedule that is not valid says why at its field, once: not also in the notice bar.
        await Page.FillAsync("input[name=schedule]", "61 * * * *");
        await Expect(Page.Locator("[data-error-for=schedule]")).ToContainTextAsync("Not a valid cron expression");
        await Expect(Page.Locator("[data-testid=next-runs]")).ToHaveCountAsync(0);
        await Page.FillAsync("input[name=name]", "Chat clean-up");
        await Page.ClickAsync("[data-testid=save-job]");
        await Expect(Page.Locator("[data-error-for=param_days]")).ToHaveTextAsync("This field is required.");
        await Expect(Page.Locator("[data-error-for=schedule]")).ToContainTextAsync("Not a valid cron expression");
        await Expect(Page.Locator("#notice")).ToBeHiddenAsync();
        Assert.That(PageErrors, Is.Empty);
    }
}
