using System.Diagnostics;

namespace Sanctum.Api.Tests;

/// <summary>
/// openapi.yaml through Spectral with spectral:oas and the OWASP API ruleset (tools/lint/.spectral.yaml): no errors.
/// The npm packages are pinned in tools/lint/package-lock.json; .ci/run installs them, and so does this test when
/// they are missing.
/// </summary>
public class OpenApiLintTests
{
    [Test]
    public async Task OpenApiYamlHasNoSpectralErrors()
    {
        TestEngine.EngineIndependent("the lint of the committed openapi.yaml");
        var folder = Path.Combine(OpenApiTests.RepositoryRoot(), "tools", "lint");
        var spectral = Path.Combine(folder, "node_modules", ".bin", "spectral");
        if (!File.Exists(spectral))
        {
            var (code, output) = await RunAsync(folder, "npm", "ci", "--no-audit", "--no-fund");
            Assert.That(code, Is.EqualTo(0), "npm ci in tools/lint failed:\n" + output);
        }

        var (_, json) = await RunAsync(folder, spectral, "lint", "../../openapi.yaml", "--ruleset", ".spectral.yaml", "--format", "json", "--quiet");
        var results = JsonSerializer.Deserialize<JsonElement>(json[json.IndexOf('[')..]).EnumerateArray().ToList();
        var errors = results.Where(r => r.GetProperty("severity").GetInt32() == 0)
            .Select(r => $"{r.GetProperty("code")}: {string.Join('.', r.GetProperty("path").EnumerateArray())}: {r.GetProperty("message")}").ToList();
        var warnings = results.Count(r => r.GetProperty("severity").GetInt32() == 1);
        TestContext.Out.WriteLine($"Spectral: {errors.Count} errors, {warnings} warnings");
        Assert.That(errors, Is.Empty, "Spectral errors in openapi.yaml (fix the document's source, or switch a rule off in tools/lint/.spectral.yaml with its reason)");
    }

    private static async Task<(int Code, string Output)> RunAsync(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
