using System.Text.Json;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Endpoint metadata: an example for each request body type the endpoints take, built from the wire type itself and
/// written as the API reads it (snake_case), so Swagger UI's "Try it out" starts from a body the server accepts
/// (OpenApi/RequestExampleFilter.cs puts it in the document; Spectral checks each against its schema). A feature
/// gives its groups its own: <c>group.WithRequestExamples(ToolExamples.All)</c>.
/// </summary>
public sealed class RequestExamples : Dictionary<Type, object>
{
    public static readonly JsonSerializerOptions Wire = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A JSON-valued field of an example.</summary>
    public static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value, Wire);
}

public static class RequestExamplesExtensions
{
    public static TBuilder WithRequestExamples<TBuilder>(this TBuilder builder, RequestExamples examples) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(examples);
}
