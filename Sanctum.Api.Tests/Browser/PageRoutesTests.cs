using System.Text.RegularExpressions;

namespace Sanctum.Api.Tests.Browser;

/// <summary>How the server routes page paths: clean routes, tool routes from the database, 404s for the rest.</summary>
public class PageRoutesTests
{
    private SanctumApplication _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _app = new SanctumApplication();
        _client = _app.CreateClient(new() { AllowAutoRedirect = false });
    }

    [OneTimeTearDown]
    public async Task Stop() => await _app.DisposeAsync();

    [TestCase("/", "js/chat.js")]
    [TestCase("/login", "js/login.js")]
    [TestCase("/settings", "js/settings.js")]
    [TestCase("/create-agent", "js/create-agent.js")]
    [TestCase("/system-settings", "js/system-settings.js")]
    [TestCase("/user-management", "js/user-management.js")]
    [TestCase("/chat-settings", "js/chat-settings.js")]
    [TestCase("/status", "js/status.js")]
    [TestCase("/install-tool", "js/tool.js")]
    [TestCase("/backup-restore", "js/backup-restore.js")]
    [TestCase("/cron-scheduler", "js/cron-scheduler.js")]
    [TestCase("/broca-settings", "js/broca.js")]
    [TestCase("/smcp-tools", "js/smcp-tools.js")]
    [TestCase("/smcp-plugins", "js/smcp-plugins.js")]
    [TestCase("/tools/smcp", "js/tool.js")]
    public async Task EachPageRouteServesItsPage(string path, string script)
    {
        var response = await _client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), html);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(html, Does.Contain($"src=\"/{script}\""));
        Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'self'"));
    }

    [Test]
    public async Task EverySeededToolRouteLeadsToAPage()
    {
        using var db = _app.OpenDatabase();
        var routes = db.Query<string>("""
            SELECT route_path FROM tools
            WHERE id IN ('system-settings', 'install-tool', 'cron-scheduler', 'create-agent', 'backup-restore', 'chat-settings', 'broca', 'smcp')
            """).AsList();
        Assert.That(routes, Has.Count.EqualTo(8));
        foreach (var route in routes)
        {
            var response = await _client.GetAsync(route);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), route);
        }
    }

    [Test]
    public async Task ANewToolRouteGetsTheGenericToolPage()
    {
        Assert.That((await _client.GetAsync("/weather-station")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        using (var db = _app.OpenDatabase())
            db.Execute("INSERT INTO tools (id, name, category, route_path) VALUES ('weather', 'Weather', 'smcp', '/weather-station')");

        var response = await _client.GetAsync("/weather-station");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("src=\"/js/tool.js\""));
    }

    [TestCase("/no-such-page")]
    [TestCase("/settings/extra")]
    public async Task AnUnknownPathIsTheNotFoundPage(string path)
    {
        var response = await _client.GetAsync(path);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Page not found"));
    }

    [TestCase("/api/no-such-thing")]
    [TestCase("/api/tools/system-settings/nothing/here")]
    [TestCase("/api")]
    public async Task AnUnknownApiPathStaysAProblem(string path)
    {
        var response = await _client.GetAsync(path);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AWrongMethodOnAnApiRouteIsStill405()
    {
        var response = await _client.DeleteAsync("/api/status");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
    }

    [Test]
    public async Task SwaggerAndStaticFilesKeepWorking()
    {
        var swagger = await _client.GetAsync("/swagger");
        Assert.That((int)swagger.StatusCode, Is.InRange(300, 399).Or.EqualTo(200));
        Assert.That((await _client.GetAsync("/swagger/index.html")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _client.GetAsync("/swagger/v1/swagger.json")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var css = await _client.GetAsync("/app.css");
        Assert.That(css.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(css.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/css"));
        var js = await _client.GetAsync("/js/api.js");
        Assert.That(js.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await _client.GetAsync("/js/missing.js")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _client.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    /// <summary>The machines that run Sanctum have no internet: the pages may name no outside URL.</summary>
    [Test]
    public void ThePagesReferToNoOutsideUrl()
    {
        var files = WebRootFiles().Where(f => f.EndsWith(".html") || f.EndsWith(".js") || f.EndsWith(".css")).ToList();
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.That(Regex.IsMatch(text, @"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase), Is.False, $"{file} names an outside URL");
            Assert.That(Regex.IsMatch(text, @"@import|url\(\s*['""]?(https?:)?//"), Is.False, $"{file} imports from outside");
        }
    }

    /// <summary>Data reaches the page only as text: the scripts never assign HTML.</summary>
    [Test]
    public void TheScriptsNeverWriteHtml()
    {
        foreach (var file in WebRootFiles().Where(f => f.EndsWith(".js")))
        {
            var text = File.ReadAllText(file);
            Assert.That(text, Does.Not.Contain("innerHTML").And.Not.Contain("outerHTML").And.Not.Contain("insertAdjacentHTML")
                .And.Not.Contain("document.write").And.Not.Contain("eval("), file);
        }
    }

    private static IEnumerable<string> WebRootFiles() =>
        Directory.EnumerateFiles(Path.Combine(OpenApiTests.RepositoryRoot(), "wwwroot"), "*", SearchOption.AllDirectories);
}
