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
                Description = "Control-panel API for the Sanctum multi-agent system. Sign in with POST /api/auth/login, "
                    + "then send the returned token as 'Authorization: Bearer <token>' (or use the sanctum_session cookie).",
            });
            o.AddSecurityDefinition("Bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The token from POST /api/auth/login.",
            });
            o.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("Bearer", document)] = [],
            });
            o.SupportNonNullableReferenceTypes();
            // JSON-valued columns travel as JsonNode: any JSON value, not the .NET type's own properties.
            o.MapType<System.Text.Json.Nodes.JsonNode>(() => new OpenApiSchema { Description = "Any JSON value." });
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
