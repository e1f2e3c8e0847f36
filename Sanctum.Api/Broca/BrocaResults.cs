using System.Data.Common;
using System.Security.Claims;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>Finds the agent's Broca for a request and turns what can go wrong there into a 404, 409 or 503 problem.</summary>
public static class BrocaResults
{
    public static async Task<IResult> WithHomeAsync(DbConnection db, string agentId, ClaimsPrincipal user, HttpContext http, Func<AgentHome, Task<IResult>> body)
    {
        var home = await BrocaHome.FindAsync(db, agentId, user);
        switch (home.State)
        {
            case HomeState.NoAgent: return Problems.NotFound($"Agent '{agentId}'");
            case HomeState.NoInstance:
                return Problems.Conflict($"Agent '{agentId}' has no Broca: add an instance of the broca tool for it with config.home (the Broca folder).");
            case HomeState.FolderGone: return Problems.Conflict($"The Broca folder of agent '{agentId}' ({home.Home}) is gone.");
        }
        try
        {
            return await body(home);
        }
        catch (Exception e) when (BrocaDatabase.Explain(e, home) is { } unavailable)
        {
            return Unavailable(http, unavailable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unavailable(http, new BrocaUnavailableException(StatusCodes.Status409Conflict,
                $"The Broca folder of agent '{agentId}' cannot be read or written: {e.Message}"));
        }
    }

    public static IResult Unavailable(HttpContext http, BrocaUnavailableException e)
    {
        if (e.Status == StatusCodes.Status503ServiceUnavailable) http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(detail: e.Message, statusCode: e.Status,
            title: e.Status == StatusCodes.Status503ServiceUnavailable ? "Service Unavailable" : "Conflict",
            type: e.Status == StatusCodes.Status409Conflict ? Problems.TypeBase + "conflict" : null);
    }

    public static IResult PreconditionFailed(string what) => TypedResults.Problem(
        detail: $"{what} changed since you read it (on disk or through another request): nothing was changed. Reload it and apply your change again.",
        statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition Failed");

    /// <summary>True when If-Match is absent or names <paramref name="etag"/> (or *).</summary>
    public static bool Matches(HttpContext http, string etag)
    {
        var header = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(header)) return true;
        return header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.StartsWith("W/", StringComparison.Ordinal) ? t[2..] : t)
            .Any(t => t == "*" || t == etag);
    }
}
