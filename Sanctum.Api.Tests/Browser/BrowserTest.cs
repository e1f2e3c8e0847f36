using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// The real application on a Kestrel port (fresh temp database) per fixture and Debian's Chromium driven by
/// Playwright, one for the run (<see cref="SharedChromium"/>); every test gets its own browser context (own cookies
/// and storage) and page. Without /usr/bin/chromium the tests report themselves skipped, never passed.
/// </summary>
// Parallelizable like any fixture: its host, data directory and browser contexts are its own; only the Chromium
// process is shared, and contexts are what keeps pages apart in it.
[Category("Browser")]
public abstract class BrowserTest
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// Debian's headless shell of the same Chromium (package chromium-headless-shell), which is what Playwright itself
    /// runs for headless tests: the full browser in headless mode costs several times the CPU per page (its browser
    /// process, software GPU process and top-chrome renderer), and on 2 cores the browser tests were the run's largest CPU user.
    /// </summary>
    public const string HeadlessShellPath = "/usr/bin/chromium-headless-shell";

    /// <summary>The headless shell when it is installed, else the full Chromium.</summary>
    public static string BrowserPath => File.Exists(HeadlessShellPath) ? HeadlessShellPath : ChromiumPath;
    protected const string UserPassword = "browser-password-1";

    private IBrowser? _browser;

    protected SanctumApplication App { get; private set; } = null!;
    protected string BaseUrl { get; private set; } = null!;
    protected IBrowserContext Context { get; private set; } = null!;
    protected IPage Page { get; private set; } = null!;

    /// <summary>Native dialogs (alert, confirm, ...) the page opened; they are dismissed, except beforeunload, which is accepted.</summary>
    protected List<string> Dialogs { get; } = [];

    /// <summary>Requests the page made to anywhere but this server.</summary>
    protected List<string> OutsideRequests { get; } = [];

    /// <summary>Uncaught script errors on the page.</summary>
    protected List<string> PageErrors { get; } = [];

    /// <summary>Settings for the server of this fixture (e.g. a provider for single sign-on); none by default.</summary>
    protected virtual IDictionary<string, string?>? AppSettings => null;

    /// <summary>
    /// What the fixture checks, when that does not depend on the database engine (<see cref="TestEngine.EngineIndependent"/>):
    /// by default a page's behaviour, run in the SQLite run only. What a page shows and sends goes through the API, whose
    /// answers the API tests check on both engines; the PostgreSQL run repeating the pages cost a quarter of its time.
    /// A fixture whose page depends on what the engine does differently returns null (it runs on both).
    /// </summary>
    protected virtual string? EngineIndependent => "the page's behaviour in the browser (its data through the API, checked on both engines)";

    [OneTimeSetUp]
    public async Task StartAppAndBrowser()
    {
        if (EngineIndependent is { } what) TestEngine.EngineIndependent(what);
        if (!File.Exists(BrowserPath)) Assert.Ignore($"Chromium not found at {HeadlessShellPath} or {ChromiumPath}: apt-get install -y chromium-headless-shell");

        App = new SanctumApplication(AppSettings);
        App.UseKestrelOnLoopback();
        App.StartServer();
        var addresses = App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        BaseUrl = addresses.First().Replace("[::]", "localhost", StringComparison.Ordinal).TrimEnd('/');
        // Sign in once as the seeded admin, doing its forced change, so the admin password is AdminPassword.
        (await App.CreateAdminClientAsync()).Dispose();

        _browser = await SharedChromium.GetAsync();
    }

    [OneTimeTearDown]
    public async Task StopAppAndBrowser()
    {
        foreach (var context in _fixtureContexts) await context.CloseAsync();
        _fixtureContexts.Clear();
        if (App is not null) await App.DisposeAsync();
    }

    [SetUp]
    public async Task OpenPage()
    {
        Dialogs.Clear();
        OutsideRequests.Clear();
        PageErrors.Clear();
        if (OwnPagesAttribute.On(this)) return;
        Context = await NewContextAsync();
        Page = await Context.NewPageAsync();
        Page.SetDefaultTimeout(10_000);
        Page.Dialog += async (_, dialog) =>
        {
            Dialogs.Add($"{dialog.Type}: {dialog.Message}");
            // A test that reloads or leaves a page with unsaved edits means to leave (pages ask with beforeunload).
            if (dialog.Type == "beforeunload") await dialog.AcceptAsync();
            else await dialog.DismissAsync();
        };
        Page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(BaseUrl + "/", StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
                OutsideRequests.Add(request.Url);
        };
        Page.PageError += (_, error) => PageErrors.Add(error);
    }

    [TearDown]
    public async Task ClosePage()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed && Page is not null)
        {
            var file = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"{TestContext.CurrentContext.Test.Name}.png");
            try
            {
                await Page.ScreenshotAsync(new() { Path = file, FullPage = true });
                TestContext.AddTestAttachment(file, "the page when the test failed");
            }
            catch (PlaywrightException) { }
        }
        foreach (var context in _contexts) await context.CloseAsync();
        _contexts.Clear();
        Assert.That(PageErrors, Is.Empty, "the page threw script errors");
    }

    /// <summary>A browser context of its own (closed after the test: the browser outlives the fixture).</summary>
    protected async Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 800)
    {
        var context = await _browser!.NewContextAsync(new() { BaseURL = BaseUrl, ViewportSize = new() { Width = width, Height = height }, Locale = "en-GB" });
        _contexts.Add(context);
        return context;
    }

    /// <summary>A page of the given size in a context of its own, signed in; its script errors count like Page's.</summary>
    protected async Task<IPage> SignedInPageAsync(int width, int height, string username = "admin", string? password = null)
    {
        var context = await NewContextAsync(width, height);
        await SignInAsync(username, password ?? SanctumApplication.AdminPassword, context);
        return await NewPageAsync(context);
    }

    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<IBrowserContext> _fixtureContexts = [];

    /// <summary>A browser context signed in once for the whole fixture (closed at its end), for tests that only look at pages.</summary>
    protected async Task<IBrowserContext> SignedInFixtureContextAsync(int width, int height, string username = "admin", string? password = null)
    {
        var context = await _browser!.NewContextAsync(new() { BaseURL = BaseUrl, ViewportSize = new() { Width = width, Height = height }, Locale = "en-GB" });
        _fixtureContexts.Add(context);
        await SignInAsync(username, password ?? SanctumApplication.AdminPassword, context);
        return context;
    }

    /// <summary>A new page in <paramref name="context"/>; its script errors count like Page's.</summary>
    protected async Task<IPage> NewPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => PageErrors.Add(error);
        return page;
    }

    /// <summary>Fails when the page is wider than its viewport (it would scroll sideways).</summary>
    protected static async Task AssertNoSidewaysScrollAsync(IPage page, string what)
    {
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.That(overflow, Is.LessThanOrEqualTo(0), $"{what} scrolls sideways at {page.ViewportSize?.Width} px");
    }

    /// <summary>Signs the page's browser context in through the API (the cookie lands in the context).</summary>
    protected async Task SignInAsync(string username, string password, IBrowserContext? context = null)
    {
        var response = await (context ?? Context).APIRequest.PostAsync("/api/auth/login", new() { DataObject = new { username, password } });
        Assert.That(response.Status, Is.EqualTo(200), await response.TextAsync());
    }

    protected Task SignInAsAdminAsync() => SignInAsync("admin", SanctumApplication.AdminPassword);

    /// <summary>Adds an active user straight to the database and returns its name (password: <see cref="UserPassword"/>).</summary>
    protected string CreateUser(string role, bool mustChangePassword = false)
    {
        var username = $"{role}_{Guid.NewGuid():N}"[..16];
        using var db = App.OpenDatabase();
        db.Execute("""
            INSERT INTO users (username, email, password_hash, role, must_change_password)
            VALUES (@username, @email, @hash, @role, @mustChangePassword)
            """,
            new { username, email = $"{username}@example.test", hash = BCrypt.Net.BCrypt.HashPassword(UserPassword, 4), role, mustChangePassword });
        return username;
    }

    protected async Task SignInAsNewUserAsync(string role) => await SignInAsync(CreateUser(role), UserPassword);

    /// <summary>A bearer client for arranging and checking through the API.</summary>
    protected Task<HttpClient> AdminClientAsync() => App.CreateAdminClientAsync();

    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    protected static IPageAssertions Expect(IPage page) => Assertions.Expect(page);
}

/// <summary>
/// On a browser fixture or test whose tests open only pages of their own (<see cref="BrowserTest.SignedInPageAsync"/>):
/// no <see cref="BrowserTest.Context"/> and <see cref="BrowserTest.Page"/> are made for them, since each costs Chromium
/// a renderer process.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class OwnPagesAttribute : Attribute
{
    public static bool On(BrowserTest fixture) =>
        fixture.GetType().IsDefined(typeof(OwnPagesAttribute), inherit: true)
        || TestContext.CurrentContext.Test.Method?.GetCustomAttributes<OwnPagesAttribute>(inherit: false).Length > 0;
}
