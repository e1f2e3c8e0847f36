using Microsoft.AspNetCore.Http;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The one place where errors raised outside the bridge's own handlers (an unmatched route or method, a body over
/// the size limit, the cross-site guard, an exception) become the bridge's envelope instead of problem+json:
/// every part of the pipeline writes its errors through <see cref="IProblemDetailsService"/>, and this writer
/// claims the ones under /api/v1.
/// </summary>
public sealed class BridgeErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => ChatBridgeApi.Owns(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var status = context.ProblemDetails.Status ?? http.Response.StatusCode;
        int? retryAfter = status == StatusCodes.Status429TooManyRequests && int.TryParse(http.Response.Headers.RetryAfter, out var seconds) ? seconds : null;
        var error = new BridgeError { Error = Text(status, context.ProblemDetails.Detail), Timestamp = BridgeResults.Now(http), RetryAfter = retryAfter };
        return new ValueTask(BridgeResults.WriteAsync(http, status, error));
    }

    // The protocol's own words where it has them; otherwise what the pipeline said.
    private static string Text(int status, string? detail) => status switch
    {
        StatusCodes.Status401Unauthorized => "Authentication required",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status405MethodNotAllowed => "Method not allowed",
        StatusCodes.Status408RequestTimeout => "Request timeout",
        StatusCodes.Status413PayloadTooLarge => "Request too large",
        StatusCodes.Status429TooManyRequests => "Rate limit exceeded",
        StatusCodes.Status500InternalServerError => "Internal server error",
        _ => string.IsNullOrEmpty(detail) ? "Bad request" : detail,
    };
}
