using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Sanctum.Api.ChatBridge;
using Swashbuckle.AspNetCore.SwaggerGen;
using Sanctum.Api.Infrastructure;

// The served document is OpenAPI 3.0, whose schemas carry one `example`: OpenApiSchema.Example is that keyword
// (Microsoft.OpenApi 2 marks it obsolete in favour of `examples`, which only OpenAPI 3.1 schemas have).
#pragma warning disable CS0618

namespace Sanctum.Api.OpenApi;

/// <summary>
/// Gives every operation the security and the error responses its endpoint metadata implies, so an endpoint added
/// anywhere is documented the same way without edits here:
/// <list type="bullet">
/// <item>authorization metadata: the session schemes (and the access token unless a policy wants a session), 401 and 403;</item>
/// <item><see cref="RequiresKey"/>: those key schemes (and 401 unless optional); neither, or AllowAnonymous: <c>security: []</c>;</item>
/// <item>a body: 400, 413 and 415 (and a raw body's size limit as its maxLength); query parameters: 400; route
/// parameters: 404; a rate-limiting policy: 429; <see cref="PageLimit"/>: an array answer's maxItems;</item>
/// <item>everything the maintenance gate holds (all but <see cref="Data.MaintenanceGate.Bypass"/>): 503; everything: 500.</item>
/// </list>
/// The generic errors are shared responses under components/responses: problem+json, except under /api/v1, where
/// the chat bridge answers in its own envelope.
/// </summary>
public sealed class OperationConventions : IOperationFilter, IDocumentFilter
{
    /// <summary>A shared response; <paramref name="OrProblem"/>: problem+json too (the maintenance gate answers every route so).</summary>
    private sealed record Shared(int Status, Type Body, string Description, bool RetryAfter = false, bool OrProblem = false);

    private static readonly Dictionary<string, Shared> Responses = new(StringComparer.Ordinal)
    {
        ["BadRequest"] = new(400, typeof(HttpValidationProblemDetails),
            "The request is invalid: unreadable JSON, or field errors under `errors` keyed by the fields' JSON names. Nothing was changed."),
        ["InvalidQuery"] = new(400, typeof(HttpValidationProblemDetails), "A query parameter is invalid (field errors under `errors`)."),
        ["Unauthorized"] = new(401, typeof(ProblemDetails), "Not signed in: the session token or cookie is missing, unknown or expired."),
        ["Forbidden"] = new(403, typeof(ProblemDetails), "Signed in, but refused: the role may not do this, a password change is pending "
            + $"(type {Auth.AuthSetup.PasswordChangeRequiredType}), or a write with the session cookie came from another site."),
        ["NotFound"] = new(404, typeof(ProblemDetails), "Nothing at this address: no such resource, or a path segment of the wrong form."),
        ["PayloadTooLarge"] = new(413, typeof(ProblemDetails), "The body is larger than the server's limit (Sanctum:MaxRequestBodyBytes, 1 MiB by default)."),
        ["UnsupportedMediaType"] = new(415, typeof(ProblemDetails), "The body is not JSON: send Content-Type: application/json."),
        ["TooManyRequests"] = new(429, typeof(ProblemDetails), "Too many requests: wait the Retry-After seconds.", RetryAfter: true),
        ["ServerError"] = new(500, typeof(ProblemDetails), "An unexpected error; the server logs it."),
        ["ServiceUnavailable"] = new(503, typeof(ProblemDetails),
            "The server is busy (a backup is being restored, the database stayed locked, or too many password checks are queued): "
            + "retry after Retry-After seconds.", RetryAfter: true),
        ["BridgeUnauthorized"] = new(401, typeof(BridgeError), "The key is missing or wrong."),
        ["BridgeTooManyRequests"] = new(429, typeof(BridgeError), "The action's rate limit, or the wrong keys allowed from the client's address, are spent: wait retry_after (also the Retry-After header) seconds.", RetryAfter: true),
        ["BridgeServerError"] = new(500, typeof(BridgeError), "An unexpected error; the server logs it."),
        ["BridgeServiceUnavailable"] = new(503, typeof(BridgeError),
            "The database stayed busy (in the bridge's envelope), or a backup is being restored (problem+json): retry after Retry-After seconds.",
            RetryAfter: true, OrProblem: true),
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var api = context.ApiDescription;
        var metadata = api.ActionDescriptor.EndpointMetadata;
        var bridge = ChatBridgeApi.Owns("/" + api.RelativePath);
        var write = !HttpMethods.IsGet(api.HttpMethod ?? "") && !HttpMethods.IsHead(api.HttpMethod ?? "");
        var hasBody = operation.RequestBody is not null || api.ParameterDescriptions.Any(p => p.Source == BindingSource.Body);
        var hasQuery = operation.Parameters?.Any(p => p.In == ParameterLocation.Query) == true;
        var hasRouteValues = api.RelativePath?.Contains('{') == true;

        var keys = metadata.OfType<RequiresKey>().LastOrDefault() ?? ChatBridge.BridgeKeyHandler.Keys(metadata.OfType<IAuthorizeData>());
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        var policies = anonymous ? [] : metadata.OfType<IAuthorizeData>().ToList();
        var session = keys is null && policies.Count > 0;
        var sessionOnly = policies.Any(p => p.Policy is Auth.Policies.Session or Auth.Policies.SessionReader);
        var gated = !metadata.OfType<Data.MaintenanceGate.Bypass>().Any();

        operation.Security = keys is not null ? Requirements(context.Document, keys.Schemes, keys.Optional)
            : session ? Requirements(context.Document, sessionOnly ? Credentials.Session : Credentials.SessionOrAccessToken, optional: false)
            : [];
        RawBodyLimit(operation, metadata);
        var revealing = operation.Parameters?.Any(p => p.In == ParameterLocation.Query && p.Name == "reveal") == true;
        if (session && !sessionOnly && (metadata.OfType<Auth.NotForReadTokens>().Any() || revealing))
            operation.Description = string.Join(" ", new[] { operation.Description, revealing
                ? "With reveal=true a read-scope access token is refused (403): revealing needs a signed-in session or a write-scope token."
                : Auth.NotForReadTokens.Description }.Where(d => !string.IsNullOrEmpty(d)));
        if (metadata.OfType<PageLimit>().LastOrDefault() is { } page
            && operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue("application/json", out var json) == true
            && json.Schema is OpenApiSchema { Items: not null } array)
            array.MaxItems = page.MaxLimit;

        var responses = operation.Responses ??= [];
        var use = (string name) =>
        {
            var shared = Responses[name];
            var key = shared.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // A response declared with nothing but the reason phrase is the generic one: share it.
            if (!responses.TryGetValue(key, out var declared) || declared.Description == ReasonPhrases.GetReasonPhrase(shared.Status))
                responses[key] = new OpenApiResponseReference(name, context.Document);
        };

        if (bridge)
        {
            operation.RequestBody?.Content?.Remove("*/*");
            if (keys is { Optional: false }) use("BridgeUnauthorized");
            if (responses.ContainsKey("429")) use("BridgeTooManyRequests");
            if (write || gated) use("BridgeServiceUnavailable");
            use("BridgeServerError");
        }
        else
        {
            // Any write's body is checked for valid UTF-8 JSON text first (UseJsonTextCheck), even where the endpoint reads none.
            if (hasBody || write) use("BadRequest");
            else if (hasQuery) use("InvalidQuery");
            if (session) use("Unauthorized");
            // Every policy can refuse: a role, a pending password change, a read-only access token, or a cross-site cookie write.
            if (session) use("Forbidden");
            if (hasRouteValues) use("NotFound");
            if (hasBody)
            {
                use("PayloadTooLarge");
                use("UnsupportedMediaType");
            }
            if (metadata.OfType<EnableRateLimitingAttribute>().Any() || responses.ContainsKey("429")) use("TooManyRequests");
            if (write || gated || responses.ContainsKey("503")) use("ServiceUnavailable");
            use("ServerError");
        }

        var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        responses.Clear();
        foreach (var (key, response) in sorted) responses[key] = response;
    }

    /// <summary>Writes the shared responses the operations refer to.</summary>
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var components = document.Components ??= new OpenApiComponents();
        components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        foreach (var (name, shared) in Responses)
        {
            var content = new Dictionary<string, IOpenApiMediaType>
            {
                [shared.Body == typeof(BridgeError) ? "application/json" : "application/problem+json"] =
                    new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(shared.Body, context.SchemaRepository) },
            };
            if (shared.OrProblem)
                content["application/problem+json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository) };
            components.Responses[name] = new OpenApiResponse
            {
                Description = shared.Description,
                Headers = shared.RetryAfter ? new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = RetryAfter } : null,
                Content = content,
            };
        }
    }

    /// <summary>A body that is not JSON (an upload) is a string of at most the endpoint's request size limit.</summary>
    private static void RawBodyLimit(OpenApiOperation operation, IList<object> metadata)
    {
        if (operation.RequestBody?.Content is not { } content
            || metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>().LastOrDefault()?.MaxRequestBodySize is not { } limit) return;
        foreach (var (type, media) in content)
            if (type != "application/json" && media.Schema is OpenApiSchema s && SchemaRules.IsString(s)) s.MaxLength = (int)Math.Min(limit, int.MaxValue);
    }

    private static List<OpenApiSecurityRequirement> Requirements(OpenApiDocument? document, IEnumerable<string> schemes, bool optional)
    {
        var requirements = schemes.Select(s => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(s, document)] = [] }).ToList();
        // An empty requirement makes the others optional.
        if (optional) requirements.Insert(0, new OpenApiSecurityRequirement());
        return requirements;
    }

    private static readonly OpenApiHeader RetryAfter = new()
    {
        Description = "Seconds to wait before trying again.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = "86400", Example = System.Text.Json.Nodes.JsonValue.Create(60) },
    };
}
