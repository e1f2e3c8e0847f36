namespace Sanctum.Api.Tests.Browser;

public class UserManagementPageTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    [Test]
    public async Task AddingAUserWithoutAPasswordShowsTheTemporaryPasswordOnce()
    {
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[name=username]", "carol");
        await Page.FillAsync("input[name=email]", "carol@example.test");
        await Page.SelectOptionAsync("select[name=role]", "viewer");
        await Page.ClickAsync("[data-testid=add-user]");

        var shown = Page.Locator("[data-testid=temporary-password]");
        await Expect(shown).ToBeVisibleAsync();
        var temporary = (await shown.TextContentAsync())!.Trim();

        using (var db = App.OpenDatabase())
        {
            var user = db.QuerySingle<(long Id, string Role, long Must, string Hash)>(
                "SELECT id, role, must_change_password, password_hash FROM users WHERE username = 'carol'");
            Assert.That((user.Role, user.Must), Is.EqualTo(("viewer", 1L)));
            Assert.That(BCrypt.Net.BCrypt.Verify(temporary, user.Hash), Is.True, "the page showed a password that does not open the account");
            await Expect(Page.Locator($"[data-user-id=\"{user.Id}\"]")).ToContainTextAsync("carol@example.test");
            await Expect(Page.Locator($"[data-user-id=\"{user.Id}\"]")).ToContainTextAsync("must change password");
        }

        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-user-id]").First).ToBeVisibleAsync();
        await Expect(Page.Locator("[data-testid=temporary-password]")).ToHaveCountAsync(0);
        await Expect(Page.Locator("body")).Not.ToContainTextAsync(temporary);
    }

    [Test]
    public async Task AnInvalidEmailShowsTheServersFieldError()
    {
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[name=username]", "dave");
        await Page.FillAsync("input[name=email]", "not-an-email");
        await Page.ClickAsync("[data-testid=add-user]");

        await Expect(Page.Locator("[data-error-for=email]")).Not.ToBeEmptyAsync();
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE username = 'dave'"), Is.Zero);
    }

    [Test]
    public async Task SearchFindsAUserAndTheRoleCanBeChanged()
    {
        var username = CreateUser("user");
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[type=search]", username.ToUpperInvariant());
        var rows = Page.Locator("[data-user-id]");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator("[data-testid=username]")).ToHaveTextAsync(username);

        // A role change asks first: Cancel keeps the role, in the page and in the database.
        await rows.First.Locator("select[data-field=role]").SelectOptionAsync("viewer");
        await Expect(Page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("read but no longer chat");
        await Page.ClickAsync("[data-testid=confirm-no]");
        await Expect(rows.First.Locator("select[data-field=role]")).ToHaveValueAsync("user");
        using (var before = App.OpenDatabase())
            Assert.That(before.ExecuteScalar<string>("SELECT role FROM users WHERE username = @username", new { username }), Is.EqualTo("user"));

        await rows.First.Locator("select[data-field=role]").SelectOptionAsync("viewer");
        await rows.First.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(Page.Locator("#notice")).ToContainTextAsync("role is now viewer");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT role FROM users WHERE username = @username", new { username }), Is.EqualTo("viewer"));
    }

    [Test]
    public async Task TheTablePagesAndFiltersByRole()
    {
        using (var db = App.OpenDatabase())
            for (var i = 0; i < 30; i++)
                db.Execute("INSERT INTO users (username, email, password_hash, role) VALUES (@name, @email, 'x', @role)",
                    new { name = $"pager_{i:00}", email = $"pager_{i:00}@example.test", role = i % 3 == 0 ? "viewer" : "user" });

        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[type=search]", "pager_");
        var rows = Page.Locator("[data-user-id]");
        await Expect(Page.Locator("[data-testid=page-info]")).ToHaveTextAsync("1–25 of 30");
        await Expect(rows).ToHaveCountAsync(25);
        await Expect(rows.First.Locator("[data-testid=username]")).ToHaveTextAsync("pager_00");

        await Page.ClickAsync("#next");
        await Expect(Page.Locator("[data-testid=page-info]")).ToHaveTextAsync("26–30 of 30");
        await Expect(rows).ToHaveCountAsync(5);
        await Expect(Page.Locator("#next")).ToBeDisabledAsync();

        await Page.SelectOptionAsync("#role-filter", "viewer");
        await Expect(Page.Locator("[data-testid=page-info]")).ToHaveTextAsync("1–10 of 10");
        var shownRoles = await rows.Locator("select[data-field=role]").EvaluateAllAsync<string[]>("s => s.map(x => x.value)");
        Assert.That(shownRoles, Has.Length.EqualTo(10));
        Assert.That(shownRoles, Is.All.EqualTo("viewer"));
    }

    [Test]
    public async Task TheLastAdminCannotBeDemotedAndThePageSaysWhy()
    {
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE role = 'admin' AND status = 'active'"), Is.EqualTo(1));
        await Page.GotoAsync("/user-management");
        await Page.SelectOptionAsync("#role-filter", "admin");
        var row = Page.Locator("[data-user-id]").Filter(new() { HasText = "admin@sanctum.local" });
        await Expect(row).ToHaveCountAsync(1);

        await row.Locator("select[data-field=role]").SelectOptionAsync("user");
        await row.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(Page.Locator("#notice")).ToContainTextAsync("Conflict");
        await Expect(row.Locator("select[data-field=role]")).ToHaveValueAsync("admin");
        using var check = App.OpenDatabase();
        Assert.That(check.ExecuteScalar<string>("SELECT role FROM users WHERE username = 'admin'"), Is.EqualTo("admin"));
    }

    [Test]
    public async Task DeactivatingAUserAsksFirstThenEndsTheAccount()
    {
        var username = CreateUser("user");
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[type=search]", username);
        var row = Page.Locator("[data-user-id]");
        await Expect(row).ToHaveCountAsync(1);

        await row.Locator("[data-action=deactivate]").ClickAsync();
        await row.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(row.Locator("select[data-field=status]")).ToHaveValueAsync("inactive");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT status FROM users WHERE username = @username", new { username }), Is.EqualTo("inactive"));
    }

    [Test]
    public async Task AnAdminEditsAUsersEmailAndATakenEmailShowsAtTheField()
    {
        var username = CreateUser("user");
        var other = CreateUser("viewer");
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[type=search]", username);
        var row = Page.Locator("[data-user-id]");
        await Expect(row).ToHaveCountAsync(1);

        await row.Locator("[data-action=edit-email]").ClickAsync();
        await row.Locator("input[data-field=email]").FillAsync($"{other}@example.test");
        await row.Locator("[data-action=save-email]").ClickAsync();
        await Expect(row.Locator("[data-error-for=email]")).ToContainTextAsync("already in use");

        await row.Locator("input[data-field=email]").FillAsync("renamed@example.test");
        await row.Locator("input[data-field=email]").PressAsync("Enter");
        await Expect(row.Locator("[data-testid=email]")).ToHaveTextAsync("renamed@example.test");
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<string>("SELECT email FROM users WHERE username = @username", new { username }), Is.EqualTo("renamed@example.test"));
    }

    [Test]
    public async Task TheLockedFilterFindsAUserWhoseLockoutIsRunning()
    {
        var username = CreateUser("user");
        using (var db = App.OpenDatabase())
            db.Execute("UPDATE users SET failed_login_attempts = 5, locked_until = '2999-01-01T00:00:00Z' WHERE username = @username", new { username });
        await Page.GotoAsync("/user-management");
        await Page.FillAsync("input[type=search]", username);
        await Expect(Page.Locator("[data-user-id]")).ToHaveCountAsync(1);
        await Page.SelectOptionAsync("#status-filter", "locked");
        await Expect(Page.Locator("[data-user-id]")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-user-id]")).ToContainTextAsync("locked until");
        await Page.SelectOptionAsync("#status-filter", "inactive");
        await Expect(Page.Locator("[data-user-id]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task EveryActionOfARowIsReachableAt390PixelsWide()
    {
        var username = CreateUser("user");
        var page = await SignedInPageAsync(390, 844);
        await page.GotoAsync("/user-management");
        await page.FillAsync("input[type=search]", username);
        var row = page.Locator("[data-user-id]");
        await Expect(row).ToHaveCountAsync(1);
        await AssertNoSidewaysScrollAsync(page, "the users page");
        foreach (var action in new[] { "edit-email", "reset-password", "deactivate" })
        {
            var box = await row.Locator($"[data-action={action}]").BoundingBoxAsync();
            Assert.That(box, Is.Not.Null, action);
            Assert.That(box!.X, Is.GreaterThanOrEqualTo(0), action);
            Assert.That(box.X + box.Width, Is.LessThanOrEqualTo(390), $"{action} is off screen");
        }
        await row.Locator("[data-action=deactivate]").ClickAsync();
        await row.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(row.Locator("select[data-field=status]")).ToHaveValueAsync("inactive");
    }
}
