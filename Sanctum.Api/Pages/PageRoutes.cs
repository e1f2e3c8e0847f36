using Dapper;
using System.Data.Common;

namespace Sanctum.Api.Pages;

/// <summary>
/// Clean routes for the control pages in wwwroot/. The pages are static HTML whose scripts fetch the JSON API.
/// A path that is no named page but some tool's route_path gets the generic tool page; anything else gets the
/// 404 page, except under /api/ where an unknown path stays a problem+json 404.
/// </summary>
public static class PageRoutes
{
    private static readonly Dictionary<string, string> Pages = new(StringComparer.Ordinal)
    {
        ["/"] = "chat.html",
        ["/login"] = "login.html",
        ["/settings"] = "settings.html",
        ["/create-agent"] = "create-agent.html",
        ["/system-settings"] = "system-settings.html",
        ["/user-management"] = "user-management.html",
        ["/chat-settings"] = "chat-settings.html",
        ["/status"] = "status.html",
        ["/tokens"] = "tokens.html",
        ["/security"] = "security.html",
        ["/backup-restore"] = "backup-restore.html",
        ["/cron-scheduler"] = "cron-scheduler.html",
        ["/broca-settings"] = "broca-settings.html",
        ["/smcp-tools"] = "smcp-tools.html",
        ["/smcp-plugins"] = "smcp-plugins.html",
    };

    private static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    public static IEndpointRouteBuilder MapPages(this IEndpointRouteBuilder routes)
    {
        foreach (var (path, file) in Pages)
            routes.MapMethods(path, GetOrHead, (IWebHostEnvironment env, HttpContext http) => Page(env, http, file)).ExcludeFromDescription();

        // The agent page finds its agent through the API, which also answers who may see it.
        routes.MapMethods("/agents/{id}", GetOrHead, (IWebHostEnvironment env, HttpContext http) => Page(env, http, "agent.html")).ExcludeFromDescription();
        // Every tool's own page by id, also for a tool whose route is a page of its own (the SMCP catalogue's servers).
        routes.MapMethods("/tools/{id}", GetOrHead, (IWebHostEnvironment env, HttpContext http) => Page(env, http, "tool.html")).ExcludeFromDescription();

        // GET only, so a wrong method on an API route still gets its 405; nonfile, so static files still serve.
        routes.MapMethods("/{*path:nonfile}", GetOrHead, ToolPageOrNotFound).ExcludeFromDescription();
        return routes;
    }

    private static async Task<IResult> ToolPageOrNotFound(string? path, DbConnection db, IWebHostEnvironment env, HttpContext http)
    {
        var requested = "/" + (path ?? "").TrimEnd('/');
        if (requested == "/api" || requested.StartsWith("/api/", StringComparison.Ordinal)
            || requested == "/swagger" || requested.StartsWith("/swagger/", StringComparison.Ordinal))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound);

        var isTool = await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM tools WHERE route_path = @requested)", new { requested });
        return isTool ? Page(env, http, "tool.html") : Page(env, http, "not-found.html", StatusCodes.Status404NotFound);
    }

    private static IResult Page(IWebHostEnvironment env, HttpContext http, string file, int status = StatusCodes.Status200OK)
    {
        var info = env.WebRootFileProvider.GetFileInfo(file);
        if (!info.Exists) throw new FileNotFoundException($"The page {file} is missing from the web root {env.WebRootPath}.");

        using var reader = new StreamReader(info.CreateReadStream());
        http.Response.Headers.CacheControl = "no-cache"; // CSP and the other security headers: Infrastructure/SecurityHeaders.cs
        return TypedResults.Content(reader.ReadToEnd(), "text/html; charset=utf-8", statusCode: status);
    }
}
