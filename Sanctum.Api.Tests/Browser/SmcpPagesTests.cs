using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;
using Sanctum.Api.Tests.Peers;

namespace Sanctum.Api.Tests.Browser;

/// <summary>
/// /smcp-tools and /smcp-plugins against a real MCP server (the reference server in streamable HTTP mode) and our own
/// plugin folders: the catalogue filtered, a tool's schema as a table, a run from the generated form, the plugins.
/// </summary>
public class SmcpPagesTests : BrowserTest
{
    private PeerProcess _server = null!;
    private string _home = null!;

    // Each plugin's describe starts a python3 process: on a busy machine (the suite beside builds) that can take longer
    // than the 5 s default, which would show the plugin's problem instead of its commands.
    protected override IDictionary<string, string?> AppSettings => new Dictionary<string, string?> { ["Sanctum:Smcp:DescribeTimeout"] = "00:00:30" };

    [OneTimeSetUp]
    public async Task StartServerAndListItAsync()
    {
        _server = await EverythingServer.StartAsync("streamableHttp");
        _home = Path.Combine(Path.GetTempPath(), "sanctum-tests", "smcp-page-home-" + Guid.NewGuid().ToString("N"));
        var weather = Directory.CreateDirectory(Path.Combine(_home, "plugins", "weather"));
        File.WriteAllText(Path.Combine(weather.FullName, "cli.py"), """
            import json
            print(json.dumps({"plugin": {"name": "weather", "version": "2.1.0", "description": "Forecasts"},
                "commands": [{"name": "forecast", "description": "Tomorrow's weather", "parameters": [{"name": "city", "type": "string", "required": True}]}]}))
            """);
        var broken = Directory.CreateDirectory(Path.Combine(_home, "plugins", "broken"));
        File.WriteAllText(Path.Combine(broken.FullName, "cli.py"), "print('this is not json')\n");

        using var admin = await AdminClientAsync();
        var created = await admin.PostAsJsonAsync("/api/tools/smcp/instances",
            new { name = "Main SMCP", config = new { url = _server.BaseUrl + "/mcp", home = _home, timeout_ms = 15_000 } });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var refreshed = await admin.PostAsync("/api/smcp/tools/refresh", null);
        Assert.That(refreshed.StatusCode, Is.EqualTo(HttpStatusCode.OK), await refreshed.Content.ReadAsStringAsync());
    }

    [OneTimeTearDown]
    public void StopServer()
    {
        _server.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [OwnPages]
    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminFiltersTheCatalogueReadsASchemaAndRunsATool(int width, int height)
    {
        var page = await SignedInPageAsync(width, height);
        await page.GotoAsync("/smcp-tools");
        await Expect(page.Locator("[data-testid=servers]")).ToContainTextAsync("Main SMCP");
        await Expect(page.Locator("tr[data-tool=echo]")).ToHaveCountAsync(1);
        await page.ClickAsync("[data-testid=refresh-tools]");
        await Expect(page.Locator("[data-testid=notice-text]")).ToContainTextAsync("Listed");

        await page.FillAsync("[data-testid=tool-search]", "get-sum");
        await Expect(page.Locator("tr[data-tool=echo]")).ToHaveCountAsync(0);
        await Expect(page.Locator("tr[data-tool=get-sum]")).ToHaveCountAsync(1);
        await page.FillAsync("[data-testid=tool-search]", "");
        await AssertNoSidewaysScrollAsync(page, "the SMCP tools page");

        await page.Locator("tr[data-tool=echo] [data-action=details]").ClickAsync();
        var argument = page.Locator("[data-testid=schema-table] tr[data-argument=message]");
        await Expect(argument.Locator("td").Nth(1)).ToHaveTextAsync("string");
        await Expect(argument.Locator("td").Nth(2)).ToHaveTextAsync("yes");

        // Without its required argument the server refuses the run at the field and nothing is sent.
        await page.ClickAsync("[data-testid=run-tool]");
        await Expect(page.Locator("#run-form .error:not(:empty)")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-testid=tool-result]")).ToBeHiddenAsync();

        await page.FillAsync("#run-form [name='arguments/message']", "hello from the page");
        await page.ClickAsync("[data-testid=run-tool]");
        await Expect(page.Locator("[data-testid=result-text]")).ToHaveTextAsync("Echo: hello from the page");
        await Expect(page.Locator("[data-testid=result-outcome]")).ToContainTextAsync("Done in");

        await page.Locator("tr[data-tool=get-sum] [data-action=details]").ClickAsync();
        await page.FillAsync("#run-form [name='arguments/a']", "2");
        await page.FillAsync("#run-form [name='arguments/b']", "3");
        await page.ClickAsync("[data-testid=run-tool]");
        await Expect(page.Locator("[data-testid=result-text]")).ToContainTextAsync("5");

        await App.Services.GetRequiredService<AuditLog>().FlushAsync(TimeSpan.FromSeconds(10));
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'smcp.tool.called' AND target_id IN ('echo', 'get-sum')"), Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task AViewerReadsTheCatalogueButRunsNothingAndIsNotShownThePlugins()
    {
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/smcp-tools");
        await Page.Locator("tr[data-tool=echo] [data-action=details]").ClickAsync();
        await Expect(Page.Locator("[data-testid=schema-table] tr[data-argument=message]")).ToBeVisibleAsync();
        await Expect(Page.Locator("#run-form")).ToBeHiddenAsync();
        await Expect(Page.Locator("[data-testid=refresh-tools]")).ToHaveCountAsync(0);
        await Expect(Page.Locator("[data-testid=plugins-link]")).ToBeHiddenAsync();

        await Page.GotoAsync("/smcp-plugins");
        await Expect(Page.Locator("[data-testid=admins-only]")).ToBeVisibleAsync();
    }

    [Test]
    public async Task ThePluginsPageListsEachPluginsCommandsOrItsProblem()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/smcp-plugins");
        var weather = Page.Locator("[data-plugin=weather]");
        // Each plugin's describe starts a python3 process: generous on a busy machine.
        await Expect(weather).ToContainTextAsync("v2.1.0", new() { Timeout = 30_000 });
        await Expect(weather.Locator("tr[data-command=forecast]")).ToContainTextAsync("weather__forecast");
        await Expect(weather.Locator("tr[data-command=forecast]")).ToContainTextAsync("city (string, required)");
        await Expect(Page.Locator("[data-plugin=broken] [data-testid=plugin-problem]")).Not.ToBeEmptyAsync();
        await Expect(Page.Locator("[data-plugin=weather] [data-testid=plugin-problem]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task TheServersLinkOpensTheSmcpToolsOwnPageWithItsInstances()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/smcp-tools");
        await Page.ClickAsync("[data-testid=servers-link]");
        await Expect(Page).ToHaveURLAsync(new Regex("/tools/smcp$"));
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("SMCP");
        await Expect(Page.Locator("[data-testid=instances]")).ToContainTextAsync("Main SMCP");
    }
}
