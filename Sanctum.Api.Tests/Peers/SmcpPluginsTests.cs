namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// The plugin registry over our own plugin folders, run with python3: a valid plugin, one that prints no JSON, one
/// that breaks contract v1, one that hangs and one that prints 10 MB; each listed with its commands or its exact problem.
/// </summary>
public class SmcpPluginsTests
{
    private string _home = null!;
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!;
    private List<JsonElement> _plugins = null!;
    private TimeSpan _listing;

    private void Plugin(string name, string body)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_home, "plugins", name));
        File.WriteAllText(Path.Combine(dir.FullName, "cli.py"), "import json, sys, time, os\n" + body + "\n");
    }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _home = Path.Combine(Path.GetTempPath(), "sanctum-tests", "smcp-home-" + Guid.NewGuid().ToString("N"));
        Plugin("weather", """
            # What an interpreter launcher (pyenv's shell shim) sets itself; everything else must come from the server.
            LAUNCHER = {"PWD", "SHLVL", "_", "LC_CTYPE"} | {k for k in os.environ if "PYENV" in k}
            if sys.argv[1:] == ["--describe"]:
                print(json.dumps({"contract_version": "1.0", "plugin": {"name": "weather", "version": "2.1.0", "description": "Forecasts"},
                    "commands": [{"name": "forecast", "description": "Tomorrow's weather", "parameters": [{"name": "city", "type": "string", "required": True}]},
                                 {"name": "env", "description": (lambda keys: keys[0] if keys == ["PATH"] else "leaked:" + ",".join(keys))(sorted(k for k in os.environ if k not in LAUNCHER))}]}))
            """);
        Plugin("broken", "print('this is not json')");
        Plugin("violating", """
            print(json.dumps({"commands": [{"name": "ok"}, {"name": "fine-too"}, {"name": "bad name!"}, {"name": "p", "parameters": [{"name": "x", "type": "date"}]}]}))
            """);
        Plugin("hanging", "time.sleep(60)");
        Plugin("flooding", "sys.stdout.write('x' * (10 * 1024 * 1024))");
        Directory.CreateDirectory(Path.Combine(_home, "plugins", "no-cli")); // not a plugin: no cli.py

        Environment.SetEnvironmentVariable("SANCTUM_TEST_SECRET_ENV", "must-not-reach-plugins");
        _app = new SanctumApplication(new Dictionary<string, string?>
        {
            ["Sanctum:HealthChecks:Enabled"] = "false",
            // Generous: python3 itself may take seconds to start on a loaded machine.
            ["Sanctum:Smcp:DescribeTimeout"] = "00:00:15",
        });
        _admin = await _app.CreateAdminClientAsync();
        var created = await _admin.PostAsJsonAsync("/api/tools/smcp/instances", new { name = "with plugins", config = new { url = "http://127.0.0.1:9/sse", home = _home } });
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var response = await _admin.GetAsync("/api/smcp/plugins");
        _listing = watch.Elapsed;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        _plugins = (await response.JsonAsync()).GetProperty("items").EnumerateArray().ToList();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _app.Dispose();
        Environment.SetEnvironmentVariable("SANCTUM_TEST_SECRET_ENV", null);
        Directory.Delete(_home, recursive: true);
    }

    private JsonElement Named(string name) => _plugins.Single(p => p.GetProperty("name").GetString() == name);

    private string? Problem(string name) => Named(name).GetProperty("problem").GetString();

    [Test]
    public void EveryFolderWithACliIsListedInNameOrder() =>
        Assert.That(_plugins.Select(p => p.GetProperty("name").GetString()), Is.EqualTo(new[] { "broken", "flooding", "hanging", "violating", "weather" }));

    [Test]
    public void AValidPluginIsListedWithItsCommandsAndRunsWithOnlyPath()
    {
        var weather = Named("weather");
        Assert.That(weather.GetProperty("problem").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(weather.GetProperty("version").GetString(), Is.EqualTo("2.1.0"));
        Assert.That(weather.GetProperty("description").GetString(), Is.EqualTo("Forecasts"));
        var commands = weather.GetProperty("commands").EnumerateArray().ToList();
        Assert.That(commands[0].GetProperty("name").GetString(), Is.EqualTo("forecast"));
        Assert.That(commands[0].GetProperty("parameters")[0].GetProperty("name").GetString(), Is.EqualTo("city"));
        Assert.That(commands[1].GetProperty("description").GetString(), Is.EqualTo("PATH"), "the environment is cleared but PATH");
    }

    [Test]
    public void OutputThatIsNotJsonSaysSo() => Assert.That(Problem("broken"), Does.StartWith("not JSON"));

    [Test]
    public void AContractViolationNamesEachFaultyField()
    {
        var problem = Problem("violating");
        Assert.That(problem, Does.Contain("commands[2].name: does not match ^[a-zA-Z0-9_-]+$"));
        Assert.That(problem, Does.Contain("commands[3].parameters[0].type: must be one of"));
        Assert.That(problem, Does.Not.Contain("commands[0]").And.Not.Contain("commands[1]"));
    }

    [Test]
    public void AHangingPluginIsStoppedAtTheTimeLimit()
    {
        Assert.That(Problem("hanging"), Is.EqualTo("timed out after 15 s"));
        Assert.That(_listing, Is.LessThan(TimeSpan.FromSeconds(60)), "the hanging plugin was not waited for");
    }

    [Test]
    public void AFloodingPluginIsCutAtTheSizeLimit() => Assert.That(Problem("flooding"), Does.StartWith("printed more than 1048576 bytes"));

    [Test]
    public void ContractRulesOnTheirOwn()
    {
        List<string> Problems(string json) => Sanctum.Api.Smcp.PluginContract.Problems(JsonDocument.Parse(json).RootElement);
        Assert.That(Problems("""{"commands": []}"""), Is.Empty);
        Assert.That(Problems("""[]"""), Is.EqualTo(new[] { "the output is JSON but not an object" }));
        Assert.That(Problems("""{"plugin": {"name": ""}}"""), Is.EqualTo(new[] { "plugin.name: must be a non-empty string", "commands: is required" }));
        Assert.That(Problems("""{"contract_version": "2.0", "commands": [{"name": "a", "parameters": [{"required": "yes"}]}]}"""),
            Is.EqualTo(new[] { "contract_version: 2.0 is not version 1 (1, 1.x or 1.x.y)", "commands[0].parameters[0].name: is required", "commands[0].parameters[0].required: must be true or false" }));
    }
}
