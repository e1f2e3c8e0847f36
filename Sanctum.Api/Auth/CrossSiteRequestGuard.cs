namespace Sanctum.Api.Auth;

/// <summary>
/// Cookie-authenticated writes must come from our own pages. Besides the SameSite=Strict cookie, a state-changing
/// request that carries the session cookie (and no bearer header) is refused when the browser says it came from
/// another site (Sec-Fetch-Site: cross-site) or from another origin (Origin not matching Host).
/// </summary>
public static class CrossSiteRequestGuard
{
    public static IApplicationBuilder UseCrossSiteRequestGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && request.Cookies.ContainsKey(SessionTokens.CookieName) && !SessionTokens.IsBearer(request)
            && IsCrossSite(request))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = 403,
                    Title = "Cross-site request refused",
                    Type = Infrastructure.Problems.TypeBase + "cross-site-request",
                    Detail = "Requests that change state with the session cookie must come from this site.",
                },
            });
            return;
        }
        await next(context);
    });

    private static bool IsCrossSite(HttpRequest request)
    {
        if (string.Equals(request.Headers["Sec-Fetch-Site"], "cross-site", StringComparison.OrdinalIgnoreCase)) return true;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return false;
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
