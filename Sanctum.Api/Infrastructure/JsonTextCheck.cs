using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// JSON may escape a lone UTF-16 surrogate ("\ud800") and a body may hold bytes that are not UTF-8. System.Text.Json
/// accepts both while parsing and throws only when such a string is read, deep inside an endpoint, which made a 500
/// of a client's mistake. Every JSON body is checked here first, every string and property name read once: such a
/// body is a 400, logged as one line without a stack trace.
/// </summary>
public static partial class JsonTextCheck
{
    public static IApplicationBuilder UseJsonTextCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        // The chat bridge reads its bodies itself and answers in its own envelope (ChatBridge/BridgeInput.cs).
        if (!ChatBridge.ChatBridgeApi.Owns(request.Path) && TakesJson(context.GetEndpoint())
            && (request.HasJsonContentType() || (request.ContentLength > 0 && request.ContentType is null)))
        {
            request.EnableBuffering();
            var limit = context.RequestServices.GetRequiredService<IOptions<SanctumOptions>>().Value.MaxRequestBodyBytes;
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            request.Body.Position = 0;
            if (buffer.Length <= limit && !IsReadable(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
            {
                LogRefused(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonTextCheck)), request.Method, request.Path);
                await Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "Malformed JSON",
                    "The request body holds text that is not valid Unicode (a lone surrogate such as \\ud800, or bytes that are not UTF-8).");
                return;
            }
        }
        await next(context);
    });

    /// <summary>
    /// Whether the endpoint may take a JSON body: not one that declares only other types (a backup upload's zip, which
    /// is streamed to disk and must never be held in memory), and not a request that matched no endpoint.
    /// </summary>
    private static bool TakesJson(Endpoint? endpoint)
    {
        if (endpoint is null) return false;
        var accepts = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>();
        return accepts is null || accepts.ContentTypes.Count == 0
            || accepts.ContentTypes.Any(type => type.Contains("json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>False when some string or property name cannot be read as text; malformed JSON is left to the endpoint.</summary>
    public static bool IsReadable(ReadOnlySpan<byte> json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json)) return false;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped) _ = reader.GetString();
        }
        catch (JsonException)
        {
            return true; // not JSON at all: the endpoint says what is wrong with it
        }
        catch (InvalidOperationException)
        {
            return false; // an escape that is no valid UTF-16
        }
        return true;
    }

    [LoggerMessage(EventId = 9200, Level = LogLevel.Warning, Message = "Refused {Method} {Path}: the JSON body holds text that is not valid Unicode")]
    private static partial void LogRefused(ILogger logger, string method, string path);
}
