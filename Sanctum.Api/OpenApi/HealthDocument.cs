using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Sanctum.Api.OpenApi;

/// <summary>
/// /healthz and /readyz (Health/HealthEndpoints.cs): health-check endpoints, which the API explorer does not describe,
/// so they are written here. Public; the answer is the plain-text status of the checks.
/// </summary>
public sealed class HealthDocument : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Paths ??= new OpenApiPaths();
        document.Tags ??= new HashSet<OpenApiTag>();
        if (!document.Tags.Any(t => t.Name == "Health")) document.Tags.Add(new OpenApiTag { Name = "Health" });
        document.Paths["/healthz"] = Path("Liveness: the process answers (also during a restore)", "GetLiveness", ready: false);
        document.Paths["/readyz"] = Path(
            "Readiness: the database answers and is fully migrated, the disk has room, and every stored secret decrypts (Degraded names what does not)",
            "GetReadiness", ready: true);
    }

    private static OpenApiPathItem Path(string summary, string operationId, bool ready)
    {
        var responses = new OpenApiResponses
        {
            ["200"] = Text("Healthy, or Degraded (still serving).", "Healthy", "Degraded"),
            ["503"] = Text(ready ? "Unhealthy: not ready to serve (or a backup is being restored)." : "Unhealthy.", "Unhealthy"),
        };
        return new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new()
                {
                    Tags = new HashSet<OpenApiTagReference> { new("Health") },
                    Summary = summary,
                    OperationId = operationId,
                    Security = [],
                    Responses = responses,
                },
            },
        };
    }

    private static OpenApiResponse Text(string description, params string[] values) => new()
    {
        Description = description,
        Content = new Dictionary<string, IOpenApiMediaType>
        {
            ["text/plain"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = SchemaRules.Nodes(values) },
            },
        },
    };
}
