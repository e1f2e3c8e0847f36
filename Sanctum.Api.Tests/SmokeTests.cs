namespace Sanctum.Api.Tests;

public class SmokeTests
{
    [Test]
    public async Task FreshInstallServesTheEightSeededToolsToTheAdmin()
    {
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        var tools = await admin.GetFromJsonAsync<JsonElement>("/api/tools");
        Assert.That(tools.GetArrayLength(), Is.EqualTo(8));
    }
}
