namespace Sanctum.Api.Tests.Browser;

public class SystemSettingsPageTests : BrowserTest
{
    [SetUp]
    public Task SignIn() => SignInAsAdminAsync();

    private string StoredValue(string key)
    {
        using var db = App.OpenDatabase();
        return db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = @key", new { key })!;
    }

    [Test]
    public async Task ValuesAreGroupedByCategoryWithInputsFittingTheirType()
    {
        await Page.GotoAsync("/system-settings");
        await Expect(Page.Locator("section[data-category=network] [data-config-key=api_port]")).ToHaveValueAsync("5000");
        await Expect(Page.Locator("section[data-category=paths] [data-config-key=sanctum_base_path]")).ToHaveValueAsync("~/sanctum");
        var secret = Page.Locator("section[data-category=chat] [data-config-key=chat_api_key]");
        await Expect(secret).ToHaveAttributeAsync("type", "password");
        await Expect(secret).ToHaveValueAsync("");
        await Expect(secret).ToHaveAttributeAsync("placeholder", "•••••••• (set)");
        await Expect(Page.Locator("[data-config-key=openai_api_key]")).ToHaveAttributeAsync("placeholder", "(not set)");
    }

    [Test]
    public async Task SavingAValueStoresIt()
    {
        await Page.GotoAsync("/system-settings");
        var row = Page.Locator("[data-config-row=letta_connection_timeout]");
        await row.Locator("[data-config-key=letta_connection_timeout]").FillAsync("45");
        await row.Locator("[data-action=save]").ClickAsync();

        await Expect(Page.Locator("#notice")).ToContainTextAsync("Saved letta_connection_timeout.");
        Assert.That(StoredValue("letta_connection_timeout"), Is.EqualTo("45"));
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-config-key=letta_connection_timeout]")).ToHaveValueAsync("45");
    }

    [Test]
    public async Task AnInvalidValueShowsTheServersErrorAndKeepsTheOldValue()
    {
        await Page.GotoAsync("/system-settings");
        var row = Page.Locator("[data-config-row=api_port]");
        // A number input (the catalogue says port) takes no letters; out of range is what the server refuses.
        await Expect(row.Locator("[data-config-key=api_port]")).ToHaveAttributeAsync("type", "number");
        await Expect(row.Locator("[data-config-key=api_port]")).ToHaveAttributeAsync("max", "65535");
        await row.Locator("[data-config-key=api_port]").FillAsync("99999");
        await row.Locator("[data-action=save]").ClickAsync();

        await Expect(row.Locator("[data-error-for=api_port]")).ToContainTextAsync("api_port must be from 1 to 65535.");
        await Expect(row.Locator("[data-error-for=api_port]")).ToContainTextAsync("the stored value is unchanged");
        Assert.That(StoredValue("api_port"), Is.EqualTo("5000"));
        await Page.ReloadAsync();
        await Expect(Page.Locator("[data-config-key=api_port]")).ToHaveValueAsync("5000");
    }

    [Test]
    public async Task ASecretIsReplacedEncryptedAndRevealedOnRequest()
    {
        await Page.GotoAsync("/system-settings");
        var row = Page.Locator("[data-config-row=anthropic_api_key]");
        var input = row.Locator("[data-config-key=anthropic_api_key]");
        await row.Locator("[data-action=replace]").ClickAsync();
        await input.FillAsync("sk-ant-test-value");
        await row.Locator("[data-action=save]").ClickAsync();

        await Expect(input).ToHaveValueAsync("");
        await Expect(input).ToHaveAttributeAsync("placeholder", "•••••••• (set)");
        var stored = StoredValue("anthropic_api_key");
        Assert.That(stored, Is.Not.Empty.And.Not.Contain("sk-ant-test-value"), "the secret must be stored encrypted");

        await row.Locator("[data-action=reveal]").ClickAsync();
        await Expect(input).ToHaveValueAsync("sk-ant-test-value");
        await Expect(input).ToHaveAttributeAsync("type", "text");
        await Expect(row.Locator("[data-action=reveal]")).ToHaveTextAsync("Hide");
        await row.Locator("[data-action=reveal]").ClickAsync();
        await Expect(input).ToHaveValueAsync("");
    }

    [Test]
    public async Task ASaveAfterAnotherAdminsChangeIsRefusedShownAndOnlyASecondSaveReplacesIt()
    {
        await Page.GotoAsync("/system-settings");
        var row = Page.Locator("[data-config-row=smcp_port]");
        var input = row.Locator("[data-config-key=smcp_port]");
        await Expect(input).ToHaveValueAsync("9000");

        // Another admin saves while this page is open.
        var other = await App.CreateAdminClientAsync();
        Assert.That((await other.PutAsJsonAsync("/api/config/smcp_port", new { value = 9100 })).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        await input.FillAsync("9200");
        await row.Locator("[data-action=save]").ClickAsync();
        await Expect(row.Locator("[data-error-for=smcp_port]")).ToContainTextAsync("someone else changed smcp_port");
        await Expect(row.Locator("[data-error-for=smcp_port]")).ToContainTextAsync("9100");
        Assert.That(StoredValue("smcp_port"), Is.EqualTo("9100"), "the other admin's value is not silently overwritten");

        await row.Locator("[data-action=save]").ClickAsync();
        await Expect(Page.Locator("#notice")).ToContainTextAsync("Saved smcp_port.");
        Assert.That(StoredValue("smcp_port"), Is.EqualTo("9200"), "a second, informed save replaces it");
    }

    [Test]
    public async Task EachSettingSaysWhoReadsIt()
    {
        await Page.GotoAsync("/system-settings");
        await Expect(Page.Locator("[data-read-by=session_timeout]")).ToContainTextAsync("Takes effect in Sanctum");
        await Expect(Page.Locator("[data-read-by=smcp_port]")).ToContainTextAsync("Read by smcp; Sanctum only stores it.");
        await Expect(Page.Locator("[data-read-by=api_port]")).ToContainTextAsync("ASPNETCORE_URLS");
        await Expect(Page.Locator("[data-config-key=chat_allow_anonymous]")).ToHaveAttributeAsync("type", "checkbox");
        await Expect(Page.Locator("[data-config-key=letta_server_address]")).ToHaveAttributeAsync("type", "url");
    }

    [Test]
    public async Task EnvironmentVariablesCanBeAddedEditedAndDeleted()
    {
        await Page.GotoAsync("/system-settings");
        await Page.FillAsync("#env-form input[name=name]", "LETTA_HOME");
        await Page.FillAsync("#env-form input[name=value]", "/srv/letta");
        await Page.FillAsync("#env-form input[name=description]", "Where Letta lives");
        await Page.ClickAsync("[data-testid=add-env]");

        var row = Page.Locator("[data-env-name=LETTA_HOME]");
        await Expect(row.Locator("[data-testid=value]")).ToHaveTextAsync("/srv/letta");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT var_value FROM env_vars WHERE var_name = 'LETTA_HOME'"), Is.EqualTo("/srv/letta"));

        await row.Locator("[data-action=edit]").ClickAsync();
        await row.Locator("input[name=value]").FillAsync("/opt/letta");
        await row.Locator("[data-action=save]").ClickAsync();
        await Expect(row.Locator("[data-testid=value]")).ToHaveTextAsync("/opt/letta");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT var_value FROM env_vars WHERE var_name = 'LETTA_HOME'"), Is.EqualTo("/opt/letta"));

        await row.Locator("[data-action=delete]").ClickAsync();
        await row.Locator("[data-testid=confirm-yes]").ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM env_vars WHERE var_name = 'LETTA_HOME'"), Is.Zero);
    }

    [Test]
    public async Task AnInvalidVariableNameShowsTheServersError()
    {
        await Page.GotoAsync("/system-settings");
        await Page.FillAsync("#env-form input[name=name]", "1-BAD-NAME");
        await Page.FillAsync("#env-form input[name=value]", "x");
        await Page.ClickAsync("[data-testid=add-env]");

        await Expect(Page.Locator("#notice")).ToBeVisibleAsync();
        await Expect(Page.Locator("#env-form [data-error-for=name]")).Not.ToBeEmptyAsync();
        using var db = App.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM env_vars"), Is.Zero);
    }

    [Test]
    public async Task EnterSavesARowAndTheRowSaysWhetherItWasSaved()
    {
        await Page.GotoAsync("/system-settings");
        var input = Page.Locator("[data-config-key=letta_connection_timeout]");
        await input.FillAsync("50");
        await input.PressAsync("Enter");
        await Expect(Page.Locator("[data-config-row=letta_connection_timeout] [data-saved-for=letta_connection_timeout]")).ToHaveTextAsync("Saved");
        Assert.That(StoredValue("letta_connection_timeout"), Is.EqualTo("50"));

        var port = Page.Locator("[data-config-key=api_port]");
        await port.FillAsync("99999");
        await port.PressAsync("Enter");
        await Expect(Page.Locator("[data-config-row=api_port] [data-saved-for=api_port]")).ToHaveTextAsync("Not saved");
        Assert.That(StoredValue("api_port"), Is.EqualTo("5000"));
    }

    [Test]
    public async Task RevealIsOfferedOnlyForAStoredSecretAndEmptyingOneAsksFirst()
    {
        await Page.GotoAsync("/system-settings");
        await Expect(Page.Locator("[data-config-row=openai_api_key] [data-action=reveal]")).ToBeHiddenAsync();
        var row = Page.Locator("[data-config-row=chat_api_key]");
        await Expect(row.Locator("[data-action=reveal]")).ToBeVisibleAsync();

        var before = StoredValue("chat_api_key");
        await row.Locator("[data-action=replace]").ClickAsync();
        await row.Locator("[data-action=save]").ClickAsync();
        await Expect(row.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("empty value");
        await row.Locator("[data-testid=confirm-no]").ClickAsync();
        Assert.That(StoredValue("chat_api_key"), Is.EqualTo(before), "cancelled: the secret stays");
    }

    [Test]
    public async Task LeavingWithAnUnsavedValueAsksFirst()
    {
        await Page.GotoAsync("/system-settings");
        await Page.Locator("[data-config-key=letta_connection_timeout]").FillAsync("77");
        await Page.ClickAsync("#topbar a[href=\"/status\"]");
        await Expect(Page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("Leave without saving?");
        await Page.ClickAsync("[data-testid=confirm-no]");
        await Expect(Page).ToHaveURLAsync($"{BaseUrl}/system-settings");
        await Expect(Page.Locator("[data-config-key=letta_connection_timeout]")).ToHaveValueAsync("77");
    }

    [Test]
    public async Task AnAdminRevealsASecretEnvironmentVariable()
    {
        await Page.GotoAsync("/system-settings");
        await Page.FillAsync("#env-form input[name=name]", "RELAY_TOKEN");
        await Page.FillAsync("#env-form input[name=value]", "tok-123");
        await Page.CheckAsync("#env-form input[name=is_encrypted]");
        await Page.ClickAsync("[data-testid=add-env]");
        var row = Page.Locator("[data-env-name=RELAY_TOKEN]");
        await Expect(row.Locator("[data-testid=value]")).ToHaveTextAsync("********");
        await row.Locator("[data-action=reveal]").ClickAsync();
        await Expect(row.Locator("[data-testid=value]")).ToHaveTextAsync("tok-123");
        await row.Locator("[data-action=reveal]").ClickAsync();
        await Expect(row.Locator("[data-testid=value]")).ToHaveTextAsync("********");
        using var db = App.OpenDatabase();
        db.Execute("DELETE FROM env_vars WHERE var_name = 'RELAY_TOKEN'"); // other tests count the variables
    }
}
