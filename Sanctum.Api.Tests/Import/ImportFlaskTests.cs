using System.Net.Http.Headers;
using System.Text;
using Sanctum.Api.Tests.Evidence;

namespace Sanctum.Api.Tests.Import;

/// <summary>
/// An old Flask panel's database moved in with the real command (a child process, as an operator runs it): a dry run,
/// the import, and a second import; then the real application on the same data directory, signed in as the old users.
/// </summary>
[TestFixture]
public sealed class ImportFlaskTests
{
    private const string FirstSession = "session_1756658785130_0q3nq89hz";
    private const string NewAdminPassword = "keeper-after-import-7";

    private SanctumApplication _app = null!;
    private string _oldDirectory = null!;
    private string _oldPath = null!;
    private ImportCli.Result _dryRun = null!, _first = null!, _second = null!;
    private string[] _filesAfterDryRun = null!;
    private string _digestBeforeSecond = null!, _digestAfterSecond = null!;
    private HttpStatusCode _adminLogin;
    private JsonElement _adminMe;
    private HttpClient _admin = null!;

    [OneTimeSetUp]
    public async Task ImportTheOldDatabaseTwiceAfterADryRun()
    {
        _app = new SanctumApplication();
        _oldDirectory = Directory.CreateTempSubdirectory("sanctum-flask-").FullName;
        _oldPath = FlaskDatabase.Create(_oldDirectory);

        _dryRun = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", _oldPath, "--dry-run");
        _filesAfterDryRun = Directory.GetFileSystemEntries(_app.DataDirectory);
        _first = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", _oldPath);
        _digestBeforeSecond = Digest();
        _second = await ImportCli.RunAsync(_app.DataDirectory, "import-flask", _oldPath);
        _digestAfterSecond = Digest();

        // The first sign-in as the old admin, recorded before the forced password change this fixture then makes.
        _admin = _app.CreateClient();
        var login = await _admin.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = FlaskDatabase.AdminPassword });
        _adminLogin = login.StatusCode;
        if (_adminLogin != HttpStatusCode.OK) return;
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _adminMe = await _admin.GetFromJsonAsync<JsonElement>("/api/auth/me");
        await _admin.PostAsJsonAsync("/api/auth/password", new { current_password = FlaskDatabase.AdminPassword, new_password = NewAdminPassword });
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        _admin?.Dispose();
        _app?.Dispose();
        if (_oldDirectory is not null) Directory.Delete(_oldDirectory, recursive: true);
    }

    [Test]
    public void TheImportSucceedsAndReportsEveryTable()
    {
        Assert.That(_first.ExitCode, Is.EqualTo(0), _first.ToString());
        Assert.That(TableLines(_first), Is.EqualTo(new[]
        {
            "users: 2 imported, 1 replaced, 1 skipped",
            "agents: 1 imported, 1 replaced, 0 skipped",
            "system_config: 2 imported, 5 replaced, 2 skipped",
            "web_chat_sessions: 2 imported, 0 replaced, 0 skipped",
            "web_chat_messages: 3 imported, 0 replaced, 1 skipped",
            "web_chat_responses: 2 imported, 0 replaced, 0 skipped",
        }), _first.Output);
        Assert.That(_first.Output, Does.Contain("skipped 1: username or email already exists here (shadow)"));
        Assert.That(_first.Output, Does.Contain("skipped 1: its session was not imported"));
        Assert.That(_first.Output, Does.Contain("replaced: chat_api_key (the old 'api_key' was the well-known default"));
        Assert.That(_first.Output, Does.Not.Contain(FlaskDatabase.OpenAiKey).And.Not.Contain(FlaskDatabase.DefaultApiKey));
    }

    [Test]
    public void TheOldAdminSignsInWithTheOldBcryptPasswordAndMustChangeIt()
    {
        Assert.That(_adminLogin, Is.EqualTo(HttpStatusCode.OK), "admin123 ($2b$ from the old database) was refused");
        Assert.That(_adminMe.GetProperty("must_change_password").GetBoolean(), Is.True, "admin123 is public: it must be changed");
        Assert.That(_adminMe.GetProperty("email").GetString(), Is.EqualTo("admin@sanctum.local"));
        using var db = _app.OpenDatabase();
        Assert.That(db.QuerySingle<string>("SELECT created_at FROM users WHERE username = 'admin'"), Is.EqualTo("2025-08-31T16:39:45Z"));
    }

    [Test]
    public async Task TheFreshInstallsOwnAdminPasswordNoLongerWorks()
    {
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "admin", ImportCli.InstallAdminPassword), Is.Null);
    }

    [Test]
    public async Task AViewerSignsInWithTheOldPasswordAndSeesTheAgentSharedWithThem()
    {
        var viewer = await SignInAsync("vera", FlaskDatabase.ViewerPassword);
        var me = await viewer.GetFromJsonAsync<JsonElement>("/api/auth/me");
        Assert.That(me.GetProperty("role").GetString(), Is.EqualTo("viewer"));
        var agents = await viewer.GetFromJsonAsync<JsonElement>("/api/agents");
        Assert.That(agents.EnumerateArray().Select(a => a.GetProperty("id").GetString()), Does.Contain("iris"));
        var iris = agents.EnumerateArray().Single(a => a.GetProperty("id").GetString() == "iris");
        // The old status ('active') was a label someone typed: an imported agent's status is its relay's, like any new agent's.
        Assert.That(iris.GetProperty("status").GetString(), Is.EqualTo("Off"), "old status 'active', but no relay has polled it");
        Assert.That(iris.GetProperty("status_source").GetString(), Is.EqualTo("relay"));
        Assert.That(iris.GetProperty("status_reason").GetString(), Is.EqualTo("No relay has polled its inbox yet."));
        Assert.That(iris.GetProperty("last_relay_poll_at").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task AnInactiveOldUserAndOneWhoseEmailWasTakenCannotSignIn()
    {
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "ursula", FlaskDatabase.ViewerPassword), Is.Null);
        Assert.That(await SanctumApplication.LoginAsync(_app.CreateClient(), "shadow", FlaskDatabase.ViewerPassword), Is.Null);
        using var db = _app.OpenDatabase();
        Assert.That(db.QuerySingle<string>("SELECT status FROM users WHERE username = 'ursula'"), Is.EqualTo("inactive"));
    }

    [Test]
    public async Task TheSeededAgentOfTheSameNameTakesTheOldAgentsDetails()
    {
        var athena = await _admin.GetFromJsonAsync<JsonElement>("/api/agents/athena");
        Assert.That(athena.GetProperty("description").GetString(), Is.EqualTo("Athena as the old panel knew her"));
    }

    [Test]
    public async Task SecretsArriveEncryptedAndAreMaskedInResponses()
    {
        var viewer = await SignInAsync("vera", FlaskDatabase.ViewerPassword);
        foreach (var key in new[] { "openai_api_key", "letta_server_token", "discord_bot_token" })
        {
            var masked = await viewer.GetFromJsonAsync<JsonElement>($"/api/config/{key}");
            Assert.That(masked.GetProperty("value").GetString(), Is.EqualTo("********"), key);
            Assert.That(masked.GetProperty("is_encrypted").GetBoolean(), Is.True, key);
        }
        var revealed = await _admin.GetFromJsonAsync<JsonElement>("/api/config/openai_api_key?reveal=true");
        Assert.That(revealed.GetProperty("value").GetString(), Is.EqualTo(FlaskDatabase.OpenAiKey));
        var token = await _admin.GetFromJsonAsync<JsonElement>("/api/config/discord_bot_token?reveal=true");
        Assert.That(token.GetProperty("value").GetString(), Is.EqualTo(FlaskDatabase.BotToken));

        using var db = _app.OpenDatabase();
        var rows = string.Join("\n", DatabaseDigest.Dump(db).Values.SelectMany(table => table));
        // On SQLite the file itself too: its free pages and journal would keep what a row no longer shows.
        var stored = TestEngine.IsPostgres ? rows : rows + Encoding.UTF8.GetString(File.ReadAllBytes(_app.DatabasePath));
        foreach (var secret in new[] { FlaskDatabase.OpenAiKey, FlaskDatabase.LettaToken, FlaskDatabase.BotToken })
            Assert.That(stored, Does.Not.Contain(secret), "a secret in plaintext in the database");
    }

    [Test]
    public async Task PlainSettingsArriveTypedAndTheOldValueWins()
    {
        var timeout = await _admin.GetFromJsonAsync<JsonElement>("/api/config/session_timeout");
        Assert.That((timeout.GetProperty("value").GetInt32(), timeout.GetProperty("type").GetString()), Is.EqualTo((900, "number")));
        var active = await _admin.GetFromJsonAsync<JsonElement>("/api/config/letta_server_active");
        Assert.That((active.GetProperty("value").GetBoolean(), active.GetProperty("type").GetString()), Is.EqualTo((true, "boolean")));
        Assert.That(_first.Output, Does.Contain("replaced: session_timeout"));
        var history = await _admin.GetFromJsonAsync<JsonElement>("/api/config/session_timeout/history");
        Assert.That(history.ToString(), Does.Contain("\"changed_by\":\"import-flask\""), "the import's change is in the setting's history");
    }

    [Test]
    public async Task ThePublicDefaultBridgeKeysAreReplacedByNewRandomKeys()
    {
        var apiKey = (await _admin.GetFromJsonAsync<JsonElement>("/api/config/chat_api_key?reveal=true")).GetProperty("value").GetString();
        var adminKey = (await _admin.GetFromJsonAsync<JsonElement>("/api/config/chat_admin_key?reveal=true")).GetProperty("value").GetString();
        Assert.That(apiKey, Is.Not.EqualTo(FlaskDatabase.DefaultApiKey).And.Length.GreaterThanOrEqualTo(40));
        Assert.That(adminKey, Is.Not.EqualTo(FlaskDatabase.DefaultAdminKey).And.Length.GreaterThanOrEqualTo(40));

        using var oldKey = _app.CreateClient();
        oldKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FlaskDatabase.DefaultApiKey);
        Assert.That((await oldKey.GetAsync("/api/v1/inbox")).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using var newKey = _app.CreateClient();
        newKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var inbox = await newKey.GetFromJsonAsync<JsonElement>("/api/v1/inbox");
        // Only the message the old relay had not fetched yet is still waiting.
        Assert.That(inbox.GetProperty("data").GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("message").GetString()),
            Is.EqualTo(new[] { "are you still there?" }));
    }

    [Test]
    public async Task TheChatHistoryArrivesWithTimestampsInThisServicesForm()
    {
        var responses = await _app.CreateClient().GetFromJsonAsync<JsonElement>($"/api/v1/responses?session_id={FirstSession}");
        var response = responses.GetProperty("data").GetProperty("responses").EnumerateArray().Single();
        Assert.That(response.GetProperty("response").GetString(), Is.EqualTo("General Kenobi."));
        Assert.That(response.GetProperty("timestamp").GetString(), Is.EqualTo("2025-08-31T16:46:43Z"));
        using (var db = _app.OpenDatabase())
        {
            var answered = db.QuerySingle<long>("SELECT id FROM web_chat_messages WHERE message = 'hello there'");
            Assert.That(response.GetProperty("message_id").GetInt64(), Is.EqualTo(answered), "the response still points at the message it answers");
        }

        var adminKey = (await _admin.GetFromJsonAsync<JsonElement>("/api/config/chat_admin_key?reveal=true")).GetProperty("value").GetString();
        using var bridgeAdmin = _app.CreateClient();
        bridgeAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        var sessions = (await bridgeAdmin.GetFromJsonAsync<JsonElement>("/api/v1/sessions")).GetProperty("data").GetProperty("sessions");
        var first = sessions.EnumerateArray().Single(s => s.GetProperty("id").GetString() == FirstSession);
        Assert.That(first.GetProperty("uid").GetString(), Is.EqualTo("ad1087eaa26df52a"));
        Assert.That(first.GetProperty("message_count").GetInt64(), Is.EqualTo(2));
        Assert.That(first.GetProperty("created_at").GetString(), Is.EqualTo("2025-08-31T16:46:25Z"));
        Assert.That(first.GetProperty("last_active").GetString(), Is.EqualTo("2025-08-31T16:47:00Z"));
    }

    [Test]
    public void RunningItAgainImportsNothingNewAndChangesNothing()
    {
        Assert.That(_second.ExitCode, Is.EqualTo(0), _second.ToString());
        var lines = TableLines(_second);
        Assert.That(lines, Has.Count.EqualTo(TableLines(_first).Count));
        Assert.That(lines, Has.All.Contains(": 0 imported, 0 replaced,"), _second.Output);
        Assert.That(_digestAfterSecond, Is.EqualTo(_digestBeforeSecond), "the second run changed the database");
    }

    [Test]
    public void ADryRunReportsWhatTheImportDoesAndWritesNothing()
    {
        Assert.That(_dryRun.ExitCode, Is.EqualTo(0), _dryRun.ToString());
        Assert.That(_filesAfterDryRun, Is.Empty, "the dry run wrote into the data directory");
        // On PostgreSQL (the data directory holds none of it) the fresh database gets its schema, as a server start would.
        Assert.That(_dryRun.Output, Does.Contain("nothing was written").Or.Contain("nothing else was written"));
        Assert.That(Details(_dryRun), Is.EqualTo(Details(_first)));
        Assert.That(TableLines(_dryRun), Is.EqualTo(TableLines(_first)));
    }

    private async Task<HttpClient> SignInAsync(string username, string password)
    {
        var client = _app.CreateClient();
        var token = await SanctumApplication.LoginAsync(client, username, password);
        Assert.That(token, Is.Not.Null, $"{username} could not sign in");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private string Digest()
    {
        // Not pooled, and the host not started: the next child import must find the data directory free.
        using var db = _app.OpenDatabaseWithoutStarting();
        return DatabaseDigest.Compute(db);
    }

    private static List<string> Lines(ImportCli.Result result) => result.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();

    private static List<string> Details(ImportCli.Result result) =>
        Lines(result).Where(l => l.StartsWith("  replaced: ") || l.StartsWith("  skipped ") || l.StartsWith("note: ")).ToList();

    private static List<string> TableLines(ImportCli.Result result) => Lines(result).Where(l => l.Contains(" imported, ")).ToList();
}
