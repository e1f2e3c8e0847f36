using System.CommandLine;

namespace Sanctum.Api.Cli;

/// <summary><c>healthcheck [--url URL]</c>: exit 0 when the server's /readyz answers 200 (the container's HEALTHCHECK).</summary>
public static class HealthcheckCommand
{
    public static Command Create(IServiceProvider services)
    {
        var url = new Option<string>("--url") { Description = "The server's base URL (default: the first of ASPNETCORE_URLS / urls, on loopback)." };
        var command = new Command("healthcheck", "Exit 0 when the server's /readyz is healthy, 2 when not.") { url };
        command.SetAction(AdminCommands.Action(async (parse, output, cancellationToken) =>
        {
            var baseUrl = parse.GetValue(url) ?? LoopbackUrl(services.GetRequiredService<IConfiguration>()["urls"]);
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(baseUrl.TrimEnd('/') + "/"), "readyz"));
                // With AllowedHosts set, a loopback Host would get 400: ask as one of the allowed names.
                if (AllowedHost(services.GetRequiredService<IConfiguration>()["AllowedHosts"]) is { } host) request.Headers.Host = host;
                using var response = await client.SendAsync(request, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                await output.WriteLineAsync($"{(int)response.StatusCode} {body}");
                return response.IsSuccessStatusCode ? AdminCommands.Success : AdminCommands.Failed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
            {
                throw new CommandFailedException($"{baseUrl} did not answer: {e.Message}");
            }
        }));
        return command;
    }

    /// <summary>The first name of AllowedHosts (a wildcard made concrete), or null when any host is allowed.</summary>
    public static string? AllowedHost(string? allowedHosts)
    {
        var first = (allowedHosts ?? "*").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "*";
        return first == "*" ? null : first.StartsWith("*.", StringComparison.Ordinal) ? "healthcheck" + first[1..] : first;
    }

    /// <summary>The first configured URL with a wildcard host (+, *, 0.0.0.0, [::]) made loopback.</summary>
    public static string LoopbackUrl(string? urls)
    {
        var first = (urls ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://localhost:5000";
        foreach (var wildcard in new[] { "://+", "://*", "://0.0.0.0", "://[::]" })
            first = first.Replace(wildcard, "://127.0.0.1", StringComparison.Ordinal);
        return first;
    }
}
