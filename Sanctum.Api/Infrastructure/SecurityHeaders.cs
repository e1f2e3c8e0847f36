namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Headers every response gets, whoever wrote it (pages, static files, Swagger UI, the API, errors): nosniff and a
/// referrer policy everywhere; a strict CSP with frame-ancestors 'none' on every HTML response; no-store on API
/// answers (they may carry a token, a temporary password or a revealed secret); HSTS on HTTPS.
/// </summary>
public static class SecurityHeaders
{
    // Pages may load only this site's own scripts, styles and images: no outside URL, no inline script.
    public const string PageContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    // Swagger UI's page sets inline styles; scripts stay this site's own.
    public const string SwaggerContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        app.UseHsts(); // only on HTTPS requests, and not for localhost
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (!headers.ContainsKey("Referrer-Policy")) headers["Referrer-Policy"] = "same-origin";
                var path = context.Request.Path;
                if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    headers.ContentSecurityPolicy = path.StartsWithSegments("/swagger") ? SwaggerContentSecurityPolicy : PageContentSecurityPolicy;
                    headers.XFrameOptions = "DENY";
                }
                if (path.StartsWithSegments("/api") && !headers.ContainsKey("Cache-Control")) headers.CacheControl = "no-store";
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
