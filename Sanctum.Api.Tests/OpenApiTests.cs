namespace Sanctum.Api.Tests;

public class OpenApiTests
{
    private const string Regenerate = "SANCTUM_UPDATE_OPENAPI=1 dotnet test --filter OpenApiYamlMatchesTheServedDocument";

    [Test]
    public async Task OpenApiYamlMatchesTheServedDocument()
    {
        await using var app = new SanctumApplication();
        var response = await app.CreateClient().GetAsync("/swagger/v1/swagger.yaml");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var served = Normalize(await response.Content.ReadAsStringAsync());

        var path = Path.Combine(RepositoryRoot(), "openapi.yaml");
        if (Environment.GetEnvironmentVariable("SANCTUM_UPDATE_OPENAPI") == "1") await File.WriteAllTextAsync(path, served);

        Assert.That(File.Exists(path), Is.True, $"openapi.yaml is missing; create it with: {Regenerate}");
        Assert.That(Normalize(await File.ReadAllTextAsync(path)), Is.EqualTo(served),
            $"openapi.yaml differs from the document the server generates; if the change is intended, regenerate it with: {Regenerate}");
    }

    [Test]
    public async Task SwaggerUiIsServedWithTheBearerScheme()
    {
        await using var app = new SanctumApplication();
        var client = app.CreateClient();
        var ui = await client.GetAsync("/swagger/index.html");
        Assert.That(ui.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ui.Content.ReadAsStringAsync(), Does.Contain("swagger-ui"));

        var document = await client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.That(scheme.GetProperty("scheme").GetString(), Is.EqualTo("bearer"));
        Assert.That(document.GetProperty("security")[0].TryGetProperty("Bearer", out _), Is.True, "the bearer requirement must apply to the operations");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sanctum.Api.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sanctum.Api.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";
}
