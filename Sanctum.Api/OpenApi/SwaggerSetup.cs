using Microsoft.OpenApi;

namespace Sanctum.Api.OpenApi;

/// <summary>The OpenAPI document (the source of openapi.yaml) and Swagger UI with a working Authorize button.</summary>
public static class SwaggerSetup
{
    public const string DocumentName = "v1";

    public static IServiceCollection AddSanctumOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "Sanctum.Api",
                Version = DocumentName,
                // Markdown: the code spans keep <token> from being taken for an HTML tag.
                Description = "Control-panel API for the Sanctum multi-agent system. Sign in with `POST /api/auth/login`, then send the "
                    + "returned token as `Authorization: Bearer <token>` (or let the browser send the `sanctum_session` cookie). "
                    + "Errors are `application/problem+json`; the chat bridge under `/api/v1` answers in its own envelope and takes its own keys.",
            });
            foreach (var (name, scheme) in SecuritySchemes.All()) o.AddSecurityDefinition(name, scheme);
            o.OperationFilter<OperationConventions>();
            o.DocumentFilter<OperationConventions>();
            o.DocumentFilter<HealthDocument>();
            o.SchemaFilter<SchemaRules>();
            o.OperationFilter<ParameterRules>();
            o.OperationFilter<RequestExampleFilter>();
            o.OperationFilter<OneOfResponses>();
            o.SupportNonNullableReferenceTypes();
            // JSON-valued columns travel as JsonNode: any JSON value, not the .NET type's own properties.
            // Typeless, so OpenAPI 3.0 needs nullable: true to allow null as well (the 3.0 writer emits it only beside a type).
            o.MapType<System.Text.Json.Nodes.JsonNode>(() => new OpenApiSchema
            {
                Description = "Any JSON value, or null.",
                Extensions = new Dictionary<string, IOpenApiExtension> { ["nullable"] = new JsonNodeExtension(true) },
            });
            o.SchemaFilter<UnknownPropertiesIgnoredFilter>();
        });
        return services;
    }

    /// <summary>The API ignores unknown JSON properties, so the document must not claim they are refused.</summary>
    private sealed class UnknownPropertiesIgnoredFilter : Swashbuckle.AspNetCore.SwaggerGen.ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, Swashbuckle.AspNetCore.SwaggerGen.SchemaFilterContext context)
        {
            if (schema is OpenApiSchema { AdditionalPropertiesAllowed: false, AdditionalProperties: null } open) open.AdditionalPropertiesAllowed = true;
        }
    }

    /// <summary>The document and the UI, in a branch of the pipeline that only requests under /swagger enter.</summary>
    public static WebApplication UseSanctumOpenApi(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/swagger"), swagger =>
        {
            swagger.UseSwagger();
            swagger.UseSwaggerUI(o =>
            {
                o.SwaggerEndpoint($"/swagger/{DocumentName}/swagger.json", "Sanctum.Api");
                o.RoutePrefix = "swagger";
            });
        });
        return app;
    }
}
