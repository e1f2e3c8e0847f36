namespace Sanctum.Api.Tests;

/// <summary>
/// Swagger UI shows an example for every schema; left to itself it makes them up (an int64's maximum,
/// 9223372036854776000 in JavaScript; additionalProp1..3 for a map). The document gives examples that read like data.
/// </summary>
public class OpenApiExampleTests
{
    private static IEnumerable<(string Path, JsonElement Schema)> Schemas(JsonElement node, string path)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            if (node.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String) yield return (path, node);
            foreach (var property in node.EnumerateObject())
            {
                if (property.Name is "example" or "examples") continue;
                foreach (var inner in Schemas(property.Value, $"{path}/{property.Name}")) yield return inner;
            }
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in node.EnumerateArray())
                foreach (var inner in Schemas(item, $"{path}/{i++}")) yield return inner;
        }
    }

    [Test]
    public async Task EveryIntegerHasAnExampleAndIdsReadOne()
    {
        var app = ReadOnlyHost.App;
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var integers = Schemas(document, "").Where(s => s.Schema.GetProperty("type").GetString() == "integer").ToList();
        Assert.That(integers, Is.Not.Empty);
        var missing = integers.Where(s => !s.Schema.TryGetProperty("example", out _)).Select(s => s.Path).ToList();
        Assert.That(missing, Is.Empty, "integers without an example");
        Assert.That(integers.Where(s => s.Schema.GetProperty("example").GetRawText().Length > 12).Select(s => s.Path), Is.Empty, "examples that read like a limit");

        var ids = integers.Where(s => s.Path.EndsWith("/properties/id", StringComparison.Ordinal)).ToList();
        Assert.That(ids, Is.Not.Empty);
        Assert.That(ids.Select(s => s.Schema.GetProperty("example").GetInt64()), Has.All.EqualTo(1));
    }

    [Test]
    public async Task MapsInAnswersHaveExamplesWithRealNames()
    {
        var app = ReadOnlyHost.App;
        var document = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var byStatus = schemas.GetProperty("AgentCounts").GetProperty("properties").GetProperty("by_status");
        Assert.That(byStatus.GetProperty("example").GetProperty("Healthy").GetInt32(), Is.EqualTo(5));
        var problem = schemas.GetProperty("HttpValidationProblemDetails");
        Assert.That(problem.GetProperty("example").GetProperty("errors").GetProperty("name")[0].GetString(), Is.EqualTo("A name is required."));
        Assert.That(document.GetRawText(), Does.Not.Contain("additionalProp1"));
    }
}
