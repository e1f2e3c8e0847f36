namespace Sanctum.Api.Auth;

/// <summary>
/// State-changing requests from a browser must come from this service's own pages. A request that says where it came
/// from (Origin) is refused unless that is one of <see cref="PublicOrigins"/>, whatever the Host header claims (a
/// DNS-rebinding page controls both Host and Origin, but cannot make its origin one of ours). Besides the
/// SameSite=Strict cookie, a cookie-authenticated write that the browser marks Sec-Fetch-Site: cross-site is refused.
/// Scripts, which send no Origin, are unaffected.
/// </summary>
public static class CrossSiteRequestGuard
{
    public static IApplicationBuilder UseCrossSiteRequestGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && IsCrossSite(request, context.RequestServices.GetRequiredService<PublicOrigins>()))
        {
            await Infrastructure.Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Cross-site request refused",
                "Requests that change state must come from this site's own pages (Sanctum:PublicOrigins).",
                Infrastructure.Problems.TypeBase + "cross-site-request");
            return;
        }
        await next(context);
    });

    private static bool IsCrossSite(HttpRequest request, PublicOrigins origins)
    {
        if (request.Cookies.ContainsKey(SessionTokens.CookieName) && !SessionTokens.IsBearer(request)
            && string.Equals(request.Headers["Sec-Fetch-Site"], "cross-site", StringComparison.OrdinalIgnoreCase)) return true;
        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !origins.Allows(origin);
    }
}
