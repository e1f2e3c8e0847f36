namespace Sanctum.Api.Tests;

public class OpenApiTests
{
    private const string Regenerate = "SANCTUM_UPDATE_OPENAPI=1 dotnet test --filter OpenApiYamlMatchesTheServedDocument";

    [Test]
    public async Task OpenApiYamlMatchesTheServedDocument()
    {
        var app = ReadOnlyHost.App;
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
    public async Task TheDocumentOffersTheSessionAndBridgeSchemesAndMarksPublicOperationsPublic()
    {
        var app = ReadOnlyHost.App;
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.That(schemes.EnumerateObject().Select(s => s.Name),
            Is.EquivalentTo(new[] { "session_token", "session_cookie", "access_token", "bridge_key", "bridge_admin_key" }));
        Assert.That(schemes.GetProperty("session_token").GetProperty("scheme").GetString(), Is.EqualTo("bearer"));
        Assert.That(schemes.GetProperty("access_token").GetProperty("scheme").GetString(), Is.EqualTo("bearer"));
        Assert.That(schemes.GetProperty("access_token").GetProperty("description").GetString(), Does.Contain("sanctum_pat_"));
        Assert.That(schemes.GetProperty("session_cookie").GetProperty("in").GetString(), Is.EqualTo("cookie"));
        Assert.That(schemes.GetProperty("session_cookie").GetProperty("name").GetString(), Is.EqualTo("sanctum_session"));
        Assert.That(document.TryGetProperty("security", out _), Is.False, "no global requirement: each operation says its own");

        var paths = document.GetProperty("paths");
        Assert.That(Security(paths, "/api/auth/login", "post"), Is.Empty);
        Assert.That(Security(paths, "/healthz", "get"), Is.Empty);
        Assert.That(Security(paths, "/readyz", "get"), Is.Empty);
        Assert.That(Security(paths, "/api/v1/messages", "post"), Is.EqualTo(new[] { "", "session_token", "session_cookie", "access_token" }),
            "anonymous when allowed, else as the signed-in user");
        Assert.That(Security(paths, "/api/v1/responses", "get"), Is.EqualTo(new[] { "", "session_token", "session_cookie", "access_token" }));
        Assert.That(Security(paths, "/api/tools", "get"), Is.EqualTo(new[] { "session_token", "session_cookie", "access_token" }));
        Assert.That(Security(paths, "/api/backups", "get"), Is.EqualTo(new[] { "session_token", "session_cookie", "access_token" }));
        // Only a signed-in session signs out, changes the password and manages tokens.
        Assert.That(Security(paths, "/api/auth/logout", "post"), Is.EqualTo(new[] { "session_token", "session_cookie" }));
        Assert.That(Security(paths, "/api/auth/tokens", "post"), Is.EqualTo(new[] { "session_token", "session_cookie" }));
        Assert.That(Security(paths, "/api/v1/inbox", "get"), Is.EqualTo(new[] { "bridge_key", "bridge_admin_key" }));
        Assert.That(Security(paths, "/api/v1/sessions", "get"), Is.EqualTo(new[] { "bridge_admin_key" }));
        Assert.That(Security(paths, "/api/v1", "get"), Is.EqualTo(new[] { "", "bridge_key", "bridge_admin_key", "session_token", "session_cookie", "access_token" }),
            "the query form works with or without a key, and as the signed-in user for the web chat's actions");

        // Every operation that needs a session documents 401; every one behind a role policy documents 403.
        foreach (var path in paths.EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                var responses = operation.Value.GetProperty("responses");
                var security = Security(paths, path.Name, operation.Name);
                // Where a session is optional (the web chat), a bad one leaves the caller anonymous: no 401 from it.
                if (security.Contains("session_token") && !security.Contains(""))
                {
                    Assert.That(responses.TryGetProperty("401", out _), $"{operation.Name} {path.Name} lacks 401");
                    Assert.That(responses.TryGetProperty("403", out _), $"{operation.Name} {path.Name} lacks 403");
                }
                if (!path.Name.EndsWith("z", StringComparison.Ordinal)) Assert.That(responses.TryGetProperty("500", out _), $"{operation.Name} {path.Name} lacks 500");
            }
        Assert.That(paths.GetProperty("/api/tools/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _), "GET /api/tools/{id} lacks 404");
        Assert.That(paths.GetProperty("/api/agents/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _), "GET /api/agents/{id} lacks 404");
        Assert.That(paths.GetProperty("/api/auth/login").GetProperty("post").GetProperty("responses").GetProperty("429").GetProperty("$ref").GetString(),
            Is.EqualTo("#/components/responses/TooManyRequests"));
    }

    [Test]
    public async Task TheIntroShowsTheBearerTokenPlaceholderAsCode()
    {
        var app = ReadOnlyHost.App;
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        // Swagger UI renders the description as Markdown: a bare <token> is taken for an HTML tag and vanishes.
        Assert.That(document.GetProperty("info").GetProperty("description").GetString(), Does.Contain("`Authorization: Bearer <token>`"));
    }

    [Test]
    public async Task EveryJsonRequestBodyHasAnExample()
    {
        var app = ReadOnlyHost.App;
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var missing = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", Operation: operation.Value)))
            .Where(o => o.Operation.TryGetProperty("requestBody", out var body)
                && body.GetProperty("content").TryGetProperty("application/json", out var json) && !json.TryGetProperty("example", out _))
            .Select(o => o.Name).ToList();
        Assert.That(missing, Is.Empty, "add an example to the feature's XxxExamples.cs (attached with .WithRequestExamples on its group)");
    }

    private static string[] Security(JsonElement paths, string path, string method) =>
        paths.GetProperty(path).GetProperty(method).GetProperty("security").EnumerateArray()
            .Select(r => r.EnumerateObject().Select(p => p.Name).SingleOrDefault() ?? "").ToArray();

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sanctum.Api.sln"))) return dir.FullName;
        throw new InvalidOperationException("Sanctum.Api.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd() + "\n";
}
