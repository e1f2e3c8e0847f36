using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.ChatBridge;

/// <summary>The bridge's success envelope: always HTTP 200 (Broca treats anything else as a failure).</summary>
public sealed record BridgeSuccess<T>
{
    public bool Success => true;
    [System.ComponentModel.DataAnnotations.MaxLength(7), Infrastructure.OneOf("Success")]
    public string Message => "Success";
    public required string Timestamp { get; init; }
    public required T Data { get; init; }
}

/// <summary>The bridge's error envelope, sent with the matching status; never problem+json.</summary>
public sealed record BridgeError
{
    public bool Success => false;
    [System.ComponentModel.DataAnnotations.MaxLength(200)]
    public required string Error { get; init; }
    public required string Timestamp { get; init; }
    /// <summary>Seconds to wait, on 429 only (also in the Retry-After header).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [System.ComponentModel.DataAnnotations.Range(1, 86400)]
    public int? RetryAfter { get; init; }
}

/// <summary>Builds the bridge's responses, so every action answers in the same envelope, stamped by the app's clock.</summary>
public static class BridgeResults
{
    public static IResult Ok<T>(T data) => new Envelope(StatusCodes.Status200OK, now => new BridgeSuccess<T> { Timestamp = now, Data = data });

    public static IResult Error(int status, string error) => new Envelope(status, now => new BridgeError { Error = error, Timestamp = now });

    /// <summary>429 with Retry-After; the error text starts "Rate limit exceeded", as the protocol has it, then says which limit.</summary>
    public static IResult RateLimited(HttpContext http, int seconds, string? which = null)
    {
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var error = which is null ? "Rate limit exceeded" : $"Rate limit exceeded: {which}";
        return new Envelope(StatusCodes.Status429TooManyRequests,
            now => new BridgeError { Error = error, Timestamp = now, RetryAfter = seconds });
    }

    /// <summary>An empty 200, the answer to OPTIONS.</summary>
    public static IResult Options(HttpContext http, IEnumerable<string> methods)
    {
        http.Response.Headers.Allow = string.Join(", ", methods);
        return TypedResults.Ok();
    }

    public static IResult MethodNotAllowed(HttpContext http, IEnumerable<string> methods)
    {
        http.Response.Headers.Allow = string.Join(", ", methods);
        return Error(StatusCodes.Status405MethodNotAllowed, "Method not allowed");
    }

    /// <summary>Writes an envelope directly (for errors raised outside an endpoint, see <see cref="BridgeErrorWriter"/>).</summary>
    public static Task WriteAsync(HttpContext http, int status, object body)
    {
        http.Response.StatusCode = status;
        var json = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return http.Response.WriteAsJsonAsync(body, body.GetType(), json);
    }

    public static string Now(HttpContext http) => Timestamp.Now(http.RequestServices.GetRequiredService<TimeProvider>());

    private sealed class Envelope(int status, Func<string, object> body) : IResult
    {
        public Task ExecuteAsync(HttpContext http) => WriteAsync(http, status, body(Now(http)));
    }
}
