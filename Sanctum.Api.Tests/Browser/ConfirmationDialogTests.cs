namespace Sanctum.Api.Tests.Browser;

/// <summary>A confirmation without a detail line says only its question: no stray "null" (native append writes one).</summary>
public class ConfirmationDialogTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    private async Task AssertCleanDialogAsync(string question)
    {
        var dialog = Page.Locator("[data-testid=confirm-dialog]");
        await Expect(dialog.Locator(".question")).ToHaveTextAsync(question);
        await Expect(dialog).Not.ToContainTextAsync("null");
        await Expect(dialog).Not.ToContainTextAsync("undefined");
        await dialog.Locator("[data-testid=confirm-no]").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
    }

    [Test]
    public async Task TheCronDeleteDialogSaysOnlyItsQuestion()
    {
        await Page.GotoAsync("/cron-scheduler");
        await Page.Locator("tr[data-job-name='Daily backup'] [data-action=delete]").ClickAsync();
        await AssertCleanDialogAsync("Delete Daily backup and its run history?");
    }

    [Test]
    public async Task TheUserManagementDialogSaysOnlyItsQuestion()
    {
        var username = CreateUser("viewer");
        await Page.GotoAsync("/user-management");
        var row = Page.Locator("tr[data-user-id]").Filter(new() { HasText = username });
        await row.Locator("[data-action=deactivate]").ClickAsync();
        await AssertCleanDialogAsync($"Deactivate {username} and end their sessions?");
    }

    [Test]
    public async Task TheBackupDeleteDialogSaysOnlyItsQuestion()
    {
        var admin = await AdminClientAsync();
        var created = await admin.PostAsync("/api/backups", null);
        Assert.That(created.IsSuccessStatusCode, Is.True, await created.Content.ReadAsStringAsync());
        var name = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString();
        await Page.GotoAsync("/backup-restore");
        await Page.Locator($"tr[data-backup='{name}'] [data-action=delete]").ClickAsync();
        await AssertCleanDialogAsync($"Delete {name}?");
    }
}
