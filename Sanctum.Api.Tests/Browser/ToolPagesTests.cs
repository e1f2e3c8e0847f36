namespace Sanctum.Api.Tests.Browser;

/// <summary>The generic tool page and the chat settings page.</summary>
public class ToolPagesTests : BrowserTest
{
    [Test]
    public async Task TheGenericToolPageShowsTheToolOfItsRoute()
    {
        await SignInAsNewUserAsync("viewer");
        // (/broca-settings has a page of its own now: Browser/BrocaPageTests.cs.) The other test here changes install-tool.
        using (var db = App.OpenDatabase()) db.Execute("UPDATE tools SET status = 'Healthy', is_enabled = TRUE WHERE id = 'install-tool'");
        await Page.GotoAsync("/install-tool");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Install Module");
        await Expect(Page.Locator("[data-testid=tool-description]")).ToHaveTextAsync("Quick setup & upgrades");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Healthy");
        await Expect(Page).ToHaveTitleAsync("Install Module · Sanctum");
    }

    [Test]
    public async Task AnAdminChangesAToolsStatusAndDisablesIt()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/install-tool");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Healthy");

        await Page.SelectOptionAsync("#admin-controls select[name=status]", "Degraded");
        await Page.ClickAsync("[data-testid=save-status]");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Degraded");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT status FROM tools WHERE id = 'install-tool'"), Is.EqualTo("Degraded"));

        await Page.ClickAsync("[data-testid=toggle-enabled]");
        await Expect(Page.Locator("#tool-state [data-testid=enabled]")).ToHaveTextAsync("Disabled");
        await Expect(Page.Locator("[data-testid=toggle-enabled]")).ToHaveTextAsync("Enable tool");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT is_enabled FROM tools WHERE id = 'install-tool'"), Is.Zero);

        await Page.GotoAsync("/settings");
        await Expect(Page.Locator("[data-tool-id=install-tool]")).ToHaveClassAsync("card disabled");
        await Expect(Page.Locator("[data-tool-id=install-tool] [data-testid=status]")).ToHaveTextAsync("Degraded");
    }

    [Test]
    public async Task TheToolPageListsInstancesPluginsWithDependenciesAndConfiguration()
    {
        using (var db = App.OpenDatabase())
            db.Execute("""
                INSERT INTO tool_instances (tool_id, agent_id, name, status) VALUES ('install-tool', 'athena', 'Nightly <run>', 'Ready');
                INSERT INTO plugins (tool_id, name, version, status, dependencies) VALUES ('install-tool', 'clock', '1.0', 'Active', '[]');
                INSERT INTO plugins (tool_id, name, version, status, dependencies) VALUES ('install-tool', 'alarm', '2.1', 'Active', '["clock"]');
                INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('max_jobs', '12', 'number', 'tool', 'install-tool');
                """);
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/install-tool");

        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToContainTextAsync("Nightly <run>");
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToContainTextAsync("Athena Prime");
        var alarm = Page.Locator("[data-testid=plugins] tbody tr").Filter(new() { HasText = "alarm" });
        await Expect(alarm).ToContainTextAsync("clock");
        await Expect(Page.Locator("[data-testid=plugins] tbody tr")).ToHaveCountAsync(2);
        await Expect(Page.Locator("[data-testid=configurations] tbody tr")).ToContainTextAsync("max_jobs");
        await Expect(Page.Locator("[data-testid=configurations] tbody tr")).ToContainTextAsync("12");
    }

    [Test]
    public async Task ChatSettingsAreSavedAsTheAgentsConfiguration()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/chat-settings");
        await Page.SelectOptionAsync("select[name=agent]", "timbre");
        // Typing before the form holds Timbre's values would be overwritten when they arrive.
        await Expect(Page.Locator("form[data-loaded-for=timbre]")).ToHaveCountAsync(1);
        await Page.FillAsync("input[name=voice]", "alloy");
        await Page.SelectOptionAsync("select[name=safety_level]", "strict");
        await Page.FillAsync("textarea[name=persona]", "Calm and precise.");
        await Page.ClickAsync("[data-testid=save]");
        await Expect(Page.Locator("#notice")).ToContainTextAsync("Saved the chat settings of Timbre Prime.");

        using (var db = App.OpenDatabase())
        {
            var config = db.Query<(string Key, string Value)>(
                "SELECT config_key, config_value FROM agent_configs WHERE agent_id = 'timbre' ORDER BY config_key").AsList();
            Assert.That(config, Is.EqualTo(new[] { ("persona", "Calm and precise."), ("safety_level", "strict"), ("voice", "alloy") }));
        }

        await Page.GotoAsync("/chat-settings?agent=timbre");
        await Expect(Page.Locator("input[name=voice]")).ToHaveValueAsync("alloy");
        await Expect(Page.Locator("select[name=safety_level]")).ToHaveValueAsync("strict");
        await Page.SelectOptionAsync("select[name=agent]", "athena");
        await Expect(Page.Locator("input[name=voice]")).ToHaveValueAsync("");
    }

    private string NewTool(string scope = "global")
    {
        var id = "tp-" + Guid.NewGuid().ToString("N")[..8];
        using var db = App.OpenDatabase();
        db.Execute("INSERT INTO tools (id, name, description, category, route_path, module_scope) VALUES (@id, 'Probe', 'Watches things', 'master', @route, @scope)",
            new { id, route = "/" + id, scope });
        return id;
    }

    [Test]
    public async Task AnAdminEditsEveryFieldOfATool()
    {
        var id = NewTool();
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        await Page.ClickAsync("[data-testid=edit-tool]");
        var form = Page.Locator("#edit-tool form");
        await form.Locator("input[name=name]").FillAsync("Probe II");
        await form.Locator("input[name=emoji]").FillAsync("🔭");
        await form.Locator("select[name=category]").SelectOptionAsync("smcp");
        await form.Locator("select[name=status]").SelectOptionAsync("Degraded");
        await form.Locator("select[name=module_scope]").SelectOptionAsync("agent");
        await form.Locator("textarea[name=description]").FillAsync("");
        await form.Locator("textarea[name=config_schema]").FillAsync("{\"type\": \"object\", \"required\": [\"port\"]}");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Probe II");
        await Expect(Page.Locator("#tool-state [data-testid=status]")).ToHaveTextAsync("Degraded");
        using (var db = App.OpenDatabase())
        {
            var row = db.QuerySingle<(string Name, string Emoji, string Category, string Status, string Scope, string? Description, string Schema)>(
                "SELECT name, emoji, category, status, module_scope, description, config_schema FROM tools WHERE id = @id", new { id });
            Assert.That(row, Is.EqualTo(("Probe II", "🔭", "smcp", "Degraded", "agent", (string?)null, "{\"type\":\"object\",\"required\":[\"port\"]}")));
        }

        // A new route moves the page with it.
        await Page.ClickAsync("[data-testid=edit-tool]");
        await form.Locator("input[name=route_path]").FillAsync($"/{id}-moved");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/{id}-moved");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Probe II");
    }

    [OwnPages]
    [TestCase(1280, 800)]
    [TestCase(390, 844)]
    public async Task AnAdminAddsEditsAndDeletesInstancesWithJsonConfig(int width, int height)
    {
        var id = NewTool();
        var page = await SignedInPageAsync(width, height);
        await page.GotoAsync("/" + id);
        await Expect(page.Locator("[data-testid=instances]")).ToContainTextAsync("no instances");

        await page.ClickAsync("[data-testid=add-instances]");
        var form = page.Locator("#instances-form form");
        await form.Locator("input[name=name]").FillAsync("Night watch");
        await form.Locator("select[name=agent_id]").SelectOptionAsync("monday");
        await form.Locator("textarea[name=config]").FillAsync("[1, 2]");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=config]")).ToContainTextAsync("JSON object");
        await form.Locator("textarea[name=config]").FillAsync("{\"port\": 8080, \"hosts\": [\"a\"]}");
        await form.Locator("[type=submit]").ClickAsync();
        var row = page.Locator("[data-testid=instances] tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Night watch");
        await Expect(row).ToContainTextAsync("Monday Prime");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT config FROM tool_instances WHERE tool_id = @id", new { id }), Is.EqualTo("{\"port\":8080,\"hosts\":[\"a\"]}"));

        await AssertNoSidewaysScrollAsync(page, "the tool page");
        var box = await row.Locator("[data-action=edit]").BoundingBoxAsync();
        Assert.That(box!.X + box.Width, Is.LessThanOrEqualTo(width), "the row's actions are off screen");

        await row.Locator("[data-action=edit]").ClickAsync();
        await Expect(form.Locator("textarea[name=config]")).ToHaveValueAsync("{\n  \"port\": 8080,\n  \"hosts\": [\n    \"a\"\n  ]\n}");
        await form.Locator("input[name=name]").FillAsync("Day watch");
        await form.Locator("select[name=status]").SelectOptionAsync("Off");
        await form.Locator("textarea[name=config]").FillAsync("{\"port\": 9090}");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(row).ToContainTextAsync("Day watch");
        using (var db = App.OpenDatabase())
        {
            var saved = db.QuerySingle<(string Name, string Status, string Config)>("SELECT name, status, config FROM tool_instances WHERE tool_id = @id", new { id });
            Assert.That(saved, Is.EqualTo(("Day watch", "Off", "{\"port\":9090}")));
        }

        await row.Locator("[data-action=delete]").ClickAsync();
        await page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(page.Locator("[data-testid=instances]")).ToContainTextAsync("no instances");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = @id", new { id }), Is.Zero);
    }

    [Test]
    public async Task AServerFieldErrorOfAnInstanceShowsAtItsField()
    {
        var id = NewTool(scope: "agent");
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        await Page.ClickAsync("[data-testid=add-instances]");
        var form = Page.Locator("#instances-form form");
        await form.Locator("[type=submit]").ClickAsync(); // an agent-scoped tool's instance needs an agent
        await Expect(form.Locator("[data-error-for=agent_id]")).ToContainTextAsync("agent-scoped");
    }

    [Test]
    public async Task PluginsWithDependenciesAndACycleRefusedAtTheField()
    {
        var id = NewTool();
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        var form = Page.Locator("#plugins-form form");
        var rows = Page.Locator("[data-testid=plugins] tbody tr");

        await Page.ClickAsync("[data-testid=add-plugins]");
        await form.Locator("input[name=name]").FillAsync("clock");
        await form.Locator("input[name=version]").FillAsync("1.0");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);

        await Page.ClickAsync("[data-testid=add-plugins]");
        await form.Locator("input[name=name]").FillAsync("alarm");
        await form.Locator("select[name=status]").SelectOptionAsync("Active");
        await form.Locator("input[name=dependencies][value=clock]").CheckAsync();
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.Filter(new() { HasText = "alarm" })).ToContainTextAsync("clock");

        // clock → alarm → clock is a cycle: refused next to the dependencies, nothing saved.
        await rows.Filter(new() { HasText = "1.0" }).Locator("[data-action=edit]").ClickAsync();
        await form.Locator("input[name=dependencies][value=alarm]").CheckAsync();
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=dependencies]")).ToContainTextAsync("cycle");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT dependencies FROM plugins WHERE tool_id = @id AND name = 'clock'", new { id }), Is.EqualTo("[]"));

        // A plugin others depend on cannot go; the notice says why.
        await form.Locator("[data-testid=cancel]").ClickAsync();
        await rows.Filter(new() { HasText = "1.0" }).Locator("[data-action=delete]").ClickAsync();
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("#notice")).ToContainTextAsync("needed by 'alarm'");
        await Expect(rows).ToHaveCountAsync(2);
    }

    [Test]
    public async Task ConfigurationsAreEditedPerScope()
    {
        var id = NewTool();
        long instance;
        using (var db = App.OpenDatabase())
            instance = db.ExecuteScalar<long>("INSERT INTO tool_instances (tool_id, name) VALUES (@id, 'Only one') RETURNING id", new { id });
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        var rows = Page.Locator("[data-testid=configurations] tbody tr");
        var form = Page.Locator("#configurations-form form");

        await Page.ClickAsync("[data-testid=add-configurations]");
        await form.Locator("input[name=key]").FillAsync("max_jobs");
        await form.Locator("select[name=type]").SelectOptionAsync("number");
        await form.Locator("textarea[name=value]").FillAsync("many");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=value]")).Not.ToBeEmptyAsync();
        await form.Locator("textarea[name=value]").FillAsync("12");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToContainTextAsync("max_jobs");

        await Page.SelectOptionAsync("#configurations-actions select[name=scope]", $"instance:{instance}");
        await Expect(Page.Locator("[data-testid=configurations]")).ToContainTextAsync("No configuration is set for this instance.");
        await Page.ClickAsync("[data-testid=add-configurations]");
        await form.Locator("input[name=key]").FillAsync("token");
        await form.Locator("textarea[name=value]").FillAsync("s3cret");
        await form.Locator("input[name=is_encrypted]").CheckAsync();
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(rows).ToContainTextAsync("********");
        await Expect(rows).Not.ToContainTextAsync("s3cret");

        // Emptying a secret asks first.
        await rows.Locator("[data-action=edit]").ClickAsync();
        await form.Locator("textarea[name=value]").FillAsync("");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("empty value");
        await Page.ClickAsync("[data-testid=confirm-no]");

        using (var db = App.OpenDatabase())
        {
            var rowsInDb = db.Query<(string Scope, string ScopeId, string Key, string Value)>(
                "SELECT scope, scope_id, key, value FROM configurations WHERE (scope = 'tool' AND scope_id = @id) OR (scope = 'instance' AND scope_id = @instance) ORDER BY key",
                new { id, instance = instance.ToString() }).AsList();
            Assert.That(rowsInDb.Select(r => (r.Scope, r.ScopeId, r.Key)), Is.EqualTo(new[] { ("tool", id, "max_jobs"), ("instance", instance.ToString(), "token") }));
            Assert.That(rowsInDb[1].Value, Is.Not.EqualTo("s3cret"), "the secret is stored encrypted");
        }

        await Page.SelectOptionAsync("#configurations-actions select[name=scope]", $"tool:{id}");
        // The tool's rows replace the instance's asynchronously: delete only once they are shown.
        await Expect(rows).ToContainTextAsync("max_jobs");
        await rows.Locator("[data-action=delete]").ClickAsync();
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("[data-testid=configurations]")).ToContainTextAsync("No configuration is set for this tool.");
    }

    [Test]
    public async Task UsersSeeNoEditingControlsOnAToolPage()
    {
        await SignInAsNewUserAsync("user");
        await Page.GotoAsync("/install-tool"); // /cron-scheduler and /backup-restore have pages of their own now
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Install Module");
        await Expect(Page.Locator("[data-testid=instances]")).Not.ToContainTextAsync("Loading");
        await Expect(Page.Locator("[data-testid=edit-tool], [data-testid=add-instances], [data-testid=add-plugins], [data-action=edit]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task AnAttentionRowOnTheStatusPageLeadsToTheToolsPage()
    {
        var id = NewTool();
        using (var db = App.OpenDatabase()) db.Execute("UPDATE tools SET status = 'Degraded' WHERE id = @id", new { id });
        await SignInAsNewUserAsync("viewer");
        await Page.GotoAsync("/status");
        await Page.Locator($"[data-kind=tool][data-id=\"{id}\"] [data-testid=attention-link]").ClickAsync();
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/{id}");
        await Expect(Page.Locator("[data-testid=tool-name]")).ToHaveTextAsync("Probe");
        using (var db = App.OpenDatabase()) db.Execute("UPDATE tools SET status = 'Healthy' WHERE id = @id", new { id });
    }

    [Test]
    public async Task EnterSavesOneChatSettingAndSaysSoNextToIt()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/chat-settings?agent=monday");
        // The form is filled from the API after load: typing before that would be overwritten.
        await Expect(Page.Locator("form[data-loaded-for=monday]")).ToHaveCountAsync(1);
        await Page.FillAsync("input[name=voice]", "nova");
        await Page.FillAsync("input[name=primary_model]", "unsaved-model");
        await Page.PressAsync("input[name=voice]", "Enter");
        await Expect(Page.Locator("[data-saved-for=voice]")).ToHaveTextAsync("Saved");
        await Expect(Page.Locator("[data-saved-for=primary_model]")).ToBeEmptyAsync();
        using (var db = App.OpenDatabase())
        {
            var keys = db.Query<string>("SELECT config_key FROM agent_configs WHERE agent_id = 'monday' AND config_key IN ('voice', 'primary_model')").AsList();
            Assert.That(keys, Is.EqualTo(new[] { "voice" }), "Enter saved its own field only");
        }

        await Page.FillAsync("input[name=temperature]", "7");
        await Page.PressAsync("input[name=temperature]", "Enter");
        await Expect(Page.Locator("[data-saved-for=temperature]")).ToHaveTextAsync("Not saved");
        await Expect(Page.Locator("[data-error-for=temperature]")).ToContainTextAsync("0 to 2");
    }

    [Test]
    public async Task SwitchingAgentsWithUnsavedChatSettingsAsksFirst()
    {
        await SignInAsAdminAsync();
        await Page.GotoAsync("/chat-settings?agent=monday");
        await Expect(Page.Locator("select[name=agent]")).ToHaveValueAsync("monday");
        // Typing before the form holds Monday's values would be overwritten when they arrive.
        await Expect(Page.Locator("form[data-loaded-for=monday]")).ToHaveCountAsync(1);
        await Page.FillAsync("textarea[name=persona]", "Half written");
        await Page.SelectOptionAsync("select[name=agent]", "athena");
        await Expect(Page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("Discard");
        await Page.ClickAsync("[data-testid=confirm-no]");
        await Expect(Page.Locator("select[name=agent]")).ToHaveValueAsync("monday");
        await Expect(Page.Locator("textarea[name=persona]")).ToHaveValueAsync("Half written");

        await Page.SelectOptionAsync("select[name=agent]", "athena");
        await Page.ClickAsync("[data-testid=confirm-yes]");
        await Expect(Page.Locator("select[name=agent]")).ToHaveValueAsync("athena");
        await Expect(Page.Locator("textarea[name=persona]")).ToHaveValueAsync("");
    }

    [Test]
    public async Task TheServersErrorsInsideAnInstanceConfigShowUnderTheConfigWithTheirPaths()
    {
        var id = NewTool();
        using (var db = App.OpenDatabase())
            db.Execute("UPDATE tools SET config_schema = @schema WHERE id = @id", new
            {
                id, schema = """{"type":"object","properties":{"port":{"type":"integer","minimum":1},"hosts":{"type":"array","items":{"type":"string"}}},"required":["port"]}""",
            });
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        await Page.ClickAsync("[data-testid=add-instances]");
        var form = Page.Locator("#instances-form form");
        await form.Locator("textarea[name=config]").FillAsync("""{"port": "eighty", "hosts": ["a", 2]}""");
        await form.Locator("[type=submit]").ClickAsync();
        var errors = form.Locator("[data-error-for=config]");
        await Expect(errors).ToContainTextAsync("port: ");
        await Expect(errors).ToContainTextAsync("hosts/1: ");
        await Expect(form.Locator("textarea[name=config]")).ToHaveAttributeAsync("aria-invalid", "true");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = @id", new { id }), Is.Zero);

        await form.Locator("textarea[name=config]").FillAsync("""{"port": 80, "hosts": ["a"]}""");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToHaveCountAsync(1);
    }
}
