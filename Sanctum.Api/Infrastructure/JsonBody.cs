using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// A 200 answer serialized once (with the app's JSON options) and written as bytes on every request that reuses it,
/// for results kept in <see cref="Data.ResultCache"/>: serializing a list of rows was the largest cost left on a cached
/// read. Declares <typeparamref name="T"/> as the 200 response, as <c>Ok&lt;T&gt;</c> does, so the OpenAPI document is
/// the same.
/// </summary>
public sealed class JsonBody<T> : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IContentTypeHttpResult
{
    private const string Json = "application/json; charset=utf-8";
    private readonly byte[] _utf8;

    public JsonBody(T value, JsonSerializerOptions options) => _utf8 = JsonSerializer.SerializeToUtf8Bytes(value, options);

    public int? StatusCode => StatusCodes.Status200OK;
    public string ContentType => Json;

    public Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = Json;
        http.Response.ContentLength = _utf8.Length;
        return http.Response.Body.WriteAsync(_utf8).AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
}
