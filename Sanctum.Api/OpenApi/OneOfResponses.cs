using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Sanctum.Api.OpenApi;

/// <summary>
/// An endpoint that answers one status with either of two JSON bodies (Results&lt;Ok&lt;A&gt;, Ok&lt;B&gt;&gt;, as the sign-in
/// does with and without two-factor) is documented as oneOf both; the generator alone keeps only the last.
/// </summary>
public sealed class OneOfResponses : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var bodies = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IProducesResponseTypeMetadata>()
            .Where(m => m.Type is not null && m.Type != typeof(void) && m.ContentTypes.Contains("application/json"))
            .GroupBy(m => m.StatusCode).Where(g => g.Select(m => m.Type).Distinct().Count() > 1);
        foreach (var group in bodies)
        {
            if (operation.Responses?.TryGetValue(group.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) != true
                || response!.Content?.TryGetValue("application/json", out var media) != true || media is not OpenApiMediaType json) continue;
            json.Schema = new OpenApiSchema
            {
                OneOf = group.Select(m => m.Type!).Distinct().Select(t => context.SchemaGenerator.GenerateSchema(t, context.SchemaRepository)).ToList(),
            };
        }
    }
}
