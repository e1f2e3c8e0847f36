using System.Text.Json;
using Microsoft.OpenApi;
using Sanctum.Api.Infrastructure;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Sanctum.Api.OpenApi;

/// <summary>Writes each request body's example, from the <see cref="RequestExamples"/> its endpoint's feature gave it.</summary>
public sealed class RequestExampleFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media) || media is not OpenApiMediaType json) return;
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var type = context.ApiDescription.ParameterDescriptions.FirstOrDefault(p => p.Source == Microsoft.AspNetCore.Mvc.ModelBinding.BindingSource.Body)?.Type
            ?? metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>().LastOrDefault()?.RequestType;
        if (type is null) return;
        foreach (var examples in metadata.OfType<RequestExamples>().Reverse())
            if (examples.TryGetValue(type, out var example))
            {
                json.Example = JsonSerializer.SerializeToNode(example, type, RequestExamples.Wire);
                return;
            }
    }
}
