namespace Sanctum.Api.Tests.Import;

/// <summary>
/// Issue 23 item 12: old users the API would refuse are reported and skipped, and a bcrypt cost above the service's
/// own (an old <c>$2b$31$</c> hash would hold a core for days at each sign-in) is not carried over.
/// </summary>
[TestFixture]
public sealed class ImportFlaskUserRulesTests
{
    // Cost 31: never verified here, only read (a real one would take days to make).
    private const string Cost31Hash = "$2b$31$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

    private SanctumApplication _app = null!;
    private string _oldDirectory = null!;
    private ImportCli.Result _dryRun = null!, _run = null!, _again = null!;

    [OneTimeSetUp]
    public async Task ImportOldUsersTheApiWouldRefuse()
    {
        _app = new SanctumApplication();
        _oldDirectory = Directory.CreateTempSubdirectory("sanctum-flask-").FullName;
        var oldPath = FlaskDatabase.Create(_oldDirectory, withChat: false);
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = oldPath, Pooling = false }.ToString()))
        {
            var hash = BCrypt.Net.BCrypt.HashPassword(FlaskDatabase.ViewerPassword, BCrypt.Net.BCrypt.GenerateSalt(4, 'b'));
            old.Execute("""
                INSERT INTO users VALUES
                    (10, 'x', 'x@example.test', @hash, 'user', '[]', 1, 0, NULL, '2025-09-04 10:00:00', '2025-09-04 10:00:00'),
                    (11, 'bad name', 'bad@example.test', @hash, 'user', '[]', 1, 0, NULL, '2025-09-04 10:00:00', '2025-09-04 10:00:00'),
                    (12, 'mallory', 'not-an-address', @hash, 'user', '[]', 1, 0, NULL, '2025-09-04 10:00:00', '2025-09-04 10:00:00'),
                    (13, 'slowpoke', 'slow@example.test', @slow, 'user', '[]', 1, 0, NULL, '2025-09-04 10:00:00', '2025-09-04 10:00:00');
                """, new { hash, slow = Cost31Hash });
        }
        _dryRun = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", oldPath, "--dry-run");
        _run = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", oldPath);
        _again = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", oldPath);
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        _app?.Dispose();
        if (_oldDirectory is not null) Directory.Delete(_oldDirectory, recursive: true);
    }

    [Test]
    public void UsersTheApiWouldRefuseAreReportedAndSkipped()
    {
        Assert.That(_run.ExitCode, Is.EqualTo(0), _run.ToString());
        Assert.That(_run.Output, Does.Contain("skipped 2: username breaks this service's rules (3 to 50 letters, digits, '_', '.' or '-') (x, bad name)"));
        Assert.That(_run.Output, Does.Contain("skipped 1: email is not an address this service accepts (mallory)"));
        Assert.That(_dryRun.Output, Does.Contain("(x, bad name)").And.Contain("(mallory)"), "the dry run reports the same");
        using var db = _app.OpenDatabase();
        Assert.That(db.Query<string>("SELECT username FROM users ORDER BY username"), Is.EqualTo(new[] { "admin", "slowpoke", "ursula", "vera" }));
    }

    [Test]
    public async Task AHashCostlierThanTheServicesOwnIsNotCarriedOverAndAnAdminResetsThePassword()
    {
        Assert.That(_run.Output, Does.Contain("note: user slowpoke: the old password's bcrypt cost 31 is above this service's 4"), _run.ToString());
        Assert.That(_dryRun.Output, Does.Contain("user slowpoke: the old password's bcrypt cost 31"), "the dry run reports the same");
        Assert.That(_again.Output, Does.Match(@"already imported \([^)]*slowpoke"), _again.ToString());
        using (var db = _app.OpenDatabase())
        {
            var hash = db.ExecuteScalar<string>("SELECT password_hash FROM users WHERE username = 'slowpoke'");
            Assert.That(hash, Does.StartWith("$2").And.Contain("$04$").And.Not.EqualTo(Cost31Hash));
            Assert.That(db.ExecuteScalar<bool>("SELECT must_change_password FROM users WHERE username = 'slowpoke'"), Is.True);
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM users WHERE username = 'slowpoke'"), Is.EqualTo(1), "the second import added nobody");
        }

        // Signing in as that user costs what any sign-in costs, and fails until an admin sets a password.
        var login = await _app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = "slowpoke", password = FlaskDatabase.ViewerPassword });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var admin = _app.CreateClient();
        var signIn = await admin.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = FlaskDatabase.AdminPassword });
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        (await admin.PostAsJsonAsync("/api/auth/password", new { current_password = FlaskDatabase.AdminPassword, new_password = "keeper-after-import-7" }))
            .EnsureSuccessStatusCode();
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/users?limit=100");
        var id = users.GetProperty("items").EnumerateArray().Single(u => u.GetProperty("username").GetString() == "slowpoke").GetProperty("id").GetInt64();
        (await admin.PostAsJsonAsync($"/api/users/{id}/password", new { password = "a-fresh-passphrase-42" })).EnsureSuccessStatusCode();
        var after = await _app.CreateClient().PostAsJsonAsync("/api/auth/login", new { username = "slowpoke", password = "a-fresh-passphrase-42" });
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
