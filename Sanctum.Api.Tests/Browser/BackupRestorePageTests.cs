using Microsoft.Playwright;
using Sanctum.Api.Tests.Operations;

namespace Sanctum.Api.Tests.Browser;

public class BackupRestorePageTests : BrowserTest
{
    [SetUp]
    public Task SignIn()
    {
        TestEngine.RequireSqlite("backups copy the SQLite file (on PostgreSQL: BackupsApiTests)");
        return SignInAsAdminAsync();
    }

    private ILocator Row(string name) => Page.Locator($"tr[data-backup=\"{name}\"]");

    [Test]
    public async Task ABackupIsCreatedVerifiedAndDeleted()
    {
        await Page.GotoAsync("/backup-restore");
        await Page.ClickAsync("[data-testid=create-backup]");
        await Expect(Page.Locator("#notice")).ToContainTextAsync("created");
        var name = (await Page.Locator("[data-testid=backup-name]").First.TextContentAsync())!;
        await Expect(Row(name).Locator("[data-testid=backup-kind]")).ToHaveTextAsync("manual");
        await Expect(Row(name)).ToContainTextAsync("ago");
        await Expect(Row(name).Locator("[data-action=download]")).ToHaveAttributeAsync("href", $"/api/backups/{name}");

        await Row(name).Locator("[data-action=verify]").ClickAsync();
        await Expect(Page.Locator("#notice")).ToContainTextAsync($"{name}: signature, checksums, integrity and schema version 4 are fine.");

        await Row(name).Locator("[data-action=delete]").ClickAsync();
        await Row(name).Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(Row(name)).ToHaveCountAsync(0);
        Assert.That(File.Exists(Path.Combine(App.DataDirectory, "backups", name)), Is.False);
    }

    [Test]
    public async Task ARestoreFromThePageBringsBackADeletedUser()
    {
        var username = CreateUser("user");
        using var admin = await AdminClientAsync();
        var name = await BackupZips.CreateAsync(admin);
        using (var db = App.OpenDatabase()) db.Execute("DELETE FROM users WHERE username = @username", new { username });

        await Page.GotoAsync("/backup-restore");
        await Row(name).Locator("[data-action=restore]").ClickAsync();
        await Expect(Row(name)).ToContainTextAsync($"Restore {name} from");
        await Expect(Row(name)).ToContainTextAsync("is replaced by the backup's (the audit log is kept)");
        await Expect(Row(name)).ToContainTextAsync("everyone, you too, signs in again");
        await Row(name).Locator("[data-testid=confirm-yes]").ClickAsync();

        await Expect(Page.Locator("#notice")).ToContainTextAsync("Every session has ended");
        var users = Page.Locator("[data-testid=restore-report] tr[data-table=users] td");
        var before = int.Parse((await users.Nth(1).TextContentAsync())!, System.Globalization.CultureInfo.InvariantCulture);
        await Expect(users.Nth(2)).ToHaveTextAsync((before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(users.Nth(3)).ToHaveTextAsync("1");
        await Page.WaitForURLAsync("**/login?next=/backup-restore");

        await SignInAsAdminAsync();
        await Page.GotoAsync("/backup-restore");
        await Expect(Page.Locator("[data-testid=backup-kind]").Filter(new() { HasText = "pre-restore" })).ToHaveCountAsync(1);

        await Page.GotoAsync("/user-management");
        await Expect(Page.Locator("[data-user-id] [data-testid=username]").Filter(new() { HasTextString = username })).ToHaveCountAsync(1);
    }

    [Test]
    public async Task AnUploadIsCheckedAndATamperedOneIsRefusedWithItsProblem()
    {
        using var admin = await AdminClientAsync();
        var name = await BackupZips.CreateAsync(admin);
        var zip = await admin.GetByteArrayAsync($"/api/backups/{name}");
        await Page.GotoAsync("/backup-restore");

        var tampered = BackupZips.Rewrite(zip, e => e["sanctum.db"][4096] ^= 1);
        await Page.SetInputFilesAsync("[data-testid=upload-file]", new FilePayload { Name = "tampered.zip", MimeType = "application/zip", Buffer = tampered });
        await Expect(Page.Locator("#notice")).ToContainTextAsync("sanctum.db: the SHA-256 does not match the manifest.");
        await Expect(Page.Locator("[data-testid=backup-name]")).ToHaveCountAsync((await admin.GetFromJsonAsync<JsonElement>("/api/backups")).GetArrayLength());

        await Page.SetInputFilesAsync("[data-testid=upload-file]", new FilePayload { Name = "good.zip", MimeType = "application/zip", Buffer = zip });
        await Expect(Page.Locator("#notice")).ToContainTextAsync("good.zip passed its checks and is stored as");
    }

    [Test]
    public async Task ANonAdminIsToldThePageIsForAdministrators()
    {
        await Context.ClearCookiesAsync();
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/backup-restore");
        await Expect(Page.Locator("[data-testid=admins-only]")).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=create-backup]")).ToHaveCountAsync(0);
    }
}
