using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Sanctum.Api.Data;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Turns what a client can cause into a 4xx problem: unreadable bodies (400/413/415), constraint clashes (409),
/// a database that stayed busy past the timeout (503) and a full disk (503, Retry-After 60). Anything else stays a 500 and is logged as a bug.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail, errors) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } bad =>
                (bad.StatusCode, "Malformed JSON", JsonDetail(json), JsonFieldErrors(json)),
            BadHttpRequestException bad => (bad.StatusCode, TitleFor(bad.StatusCode), bad.Message, null),
            _ when DbErrors.Classify(exception).Kind is var kind && kind != DbErrorKind.Other => kind switch
            {
                DbErrorKind.UniqueViolation => (409, "Conflict", "A row with the same unique key already exists.", null),
                DbErrorKind.ForeignKeyViolation => (409, "Conflict", "The change conflicts with related rows (a foreign key).", null),
                DbErrorKind.ConstraintViolation => (400, "Bad Request", "The value breaks a rule of the database.", null),
                DbErrorKind.Busy => (503, "Service Unavailable", "The database is busy; try again.", null),
                _ => (503, "Service Unavailable", "The disk is full: nothing was changed; try again once space is freed.", (Dictionary<string, string[]>?)null),
            },
            _ => (500, "Internal Server Error", "An unexpected error occurred.", (Dictionary<string, string[]>?)null),
        };

        var diskFull = DbErrors.Classify(exception).Kind == DbErrorKind.DiskFull;
        if (status >= 500 && status != 503) logger.LogError(exception, "Unhandled exception for {Method} {Path}", context.Request.Method, context.Request.Path);
        // One line, no stack: the operator needs to free space, not read a trace.
        if (diskFull) logger.LogError("Disk full: refused {Method} {Path} with 503 (database: {Message})", context.Request.Method, context.Request.Path, exception.Message);
        if (status == 503) context.Response.Headers.RetryAfter = diskFull ? "60" : "1";

        context.Response.StatusCode = status;
        var problem = errors is null
            ? new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = title, Detail = detail }
            : new HttpValidationProblemDetails(errors) { Status = status, Title = title, Detail = detail };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static string TitleFor(int status) => status switch
    {
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        _ => "Bad Request",
    };

    private static string JsonDetail(JsonException json) =>
        json.Path is { Length: > 1 } path ? $"The request body is not valid for this operation at {path}." : "The request body is not valid JSON.";

    // "$.username" → { "username": [...] } so a wrong-typed field is reported under its own name.
    private static Dictionary<string, string[]>? JsonFieldErrors(JsonException json)
    {
        if (json.Path is not { Length: > 2 } path || !path.StartsWith("$.", StringComparison.Ordinal)) return null;
        var field = path[2..].Split('.', '[')[0];
        return field.Length == 0 ? null : new() { [field] = ["The value has the wrong type or form."] };
    }
}
