namespace Sanctum.Api.Tests.Browser;

/// <summary>The tool page's instance form sets a health check with fields, checks it now and shows the last result; a typed status says so.</summary>
public class InstanceHealthCheckPageTests : BrowserTest
{
    private string NewTool()
    {
        var id = "hc-" + Guid.NewGuid().ToString("N")[..8];
        using var db = App.OpenDatabase();
        db.Execute("INSERT INTO tools (id, name, description, category, route_path, module_scope) VALUES (@id, 'Probe', 'Watches things', 'master', @route, 'global')",
            new { id, route = "/" + id });
        return id;
    }

    [Test]
    public async Task AnInstanceGetsAnHttpCheckFromTheFormAndIsCheckedNow()
    {
        var id = NewTool();
        await SignInAsAdminAsync();
        await Page.GotoAsync("/" + id);
        await Expect(Page.Locator("#tool-state [data-testid=status-source]")).ToHaveTextAsync("set by hand");

        await Page.ClickAsync("[data-testid=add-instances]");
        var form = Page.Locator("#instances-form form");
        await form.Locator("input[name=name]").FillAsync("Self");
        await Expect(form.Locator("input[name=check_target]")).ToBeDisabledAsync();
        await form.Locator("select[name=check_type]").SelectOptionAsync("http");
        await form.Locator("input[name=check_target]").FillAsync("not a url");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(form.Locator("[data-error-for=check_target]")).ToContainTextAsync("http:// or https://");

        await form.Locator("input[name=check_target]").FillAsync(BaseUrl + "/healthz");
        await form.Locator("input[name=check_interval]").FillAsync("300");
        await form.Locator("input[name=check_expect]").FillAsync("200");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page.Locator("[data-testid=instances] tbody tr")).ToHaveCountAsync(1);
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT health_check FROM tool_instances WHERE tool_id = @id", new { id }),
                Does.Contain("\"type\":\"http\"").And.Contain("\"interval_seconds\":300").And.Contain("\"expect_status\":200"));

        await Page.Locator("[data-testid=instances] tbody tr [data-action=edit]").ClickAsync();
        await Expect(form.Locator("select[name=check_type]")).ToHaveValueAsync("http");
        await Expect(form.Locator("input[name=check_interval]")).ToHaveValueAsync("300");
        await form.Locator("[data-testid=check-now]").ClickAsync();
        await Expect(form.Locator("[data-testid=check-result]")).ToContainTextAsync(": OK in ");
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM health_check_results r JOIN tool_instances i ON i.id = r.instance_id WHERE i.tool_id = @id", new { id }),
                Is.GreaterThanOrEqualTo(1));

        // No check: the status is typed by hand again.
        await form.Locator("select[name=check_type]").SelectOptionAsync("");
        await form.Locator("[type=submit]").ClickAsync();
        await Expect(Page.Locator("#instances-form form")).ToHaveCountAsync(0);
        using (var db = App.OpenDatabase())
            Assert.That(db.ExecuteScalar<string?>("SELECT health_check FROM tool_instances WHERE tool_id = @id", new { id }), Is.Null);
        Assert.That(PageErrors, Is.Empty);
    }
}
