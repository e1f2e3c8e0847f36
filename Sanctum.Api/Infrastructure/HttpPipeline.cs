using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Infrastructure;

public static class HttpPipeline
{
    /// <summary>snake_case JSON, problem details for every error, and bad requests reported, not swallowed.</summary>
    public static IServiceCollection AddSanctumHttp(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Encoder = MinimalJsonEncoder.Instance;
        });
        services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => o.JsonSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        // Throwing lets ProblemExceptionHandler say what was wrong with the body, in every environment.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var problem = ctx.ProblemDetails;
            if (problem is HttpValidationProblemDetails validation) FieldNames.ToWireNames(validation.Errors);
            problem.Detail ??= problem.Status switch
            {
                401 => "Sign in first: send the sanctum_session cookie or an Authorization: Bearer token.",
                403 => "Your role does not allow this.",
                404 => "There is nothing at this address.",
                405 => "This address does not accept that method.",
                _ => problem.Title,
            };
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // The wire types' attributes (FieldRules.cs) are checked before a handler runs: a 400 with the field errors.
        services.AddValidation();
        return services;
    }

    /// <summary>
    /// Before authentication: every request gets the global body limit, so that whatever might read a body before the
    /// caller is known reads at most that. Nothing is read here, and nothing is refused: an admin's large upload must
    /// first be authorized, and <see cref="UseEndpointBodyLimit"/> then raises the limit.
    /// </summary>
    public static IApplicationBuilder UseRequestSizeLimit(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = context.RequestServices.GetRequiredService<IOptions<SanctumOptions>>().Value.MaxRequestBodyBytes;
        return next(context);
    });

    /// <summary>
    /// After authentication, authorization and rate limiting: the endpoint's own limit (a backup upload's) or the
    /// global one, refused up front when the declared length exceeds it (Kestrel enforces the same limit while reading).
    /// </summary>
    public static IApplicationBuilder UseEndpointBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize
            ?? context.RequestServices.GetRequiredService<IOptions<SanctumOptions>>().Value.MaxRequestBodyBytes;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;
        if (context.Request.ContentLength > limit)
            throw new BadHttpRequestException($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
        await next(context);
    });
}
