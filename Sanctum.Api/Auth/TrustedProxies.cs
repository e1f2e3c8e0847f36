using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Sanctum.Api.Auth;

/// <summary>
/// <c>Sanctum:TrustedProxies</c>: only requests arriving from these addresses or networks may say, through
/// X-Forwarded-For and X-Forwarded-Proto, who the client is and whether it used HTTPS. Without the setting the
/// headers are ignored, so a client cannot pick the address its login attempts are counted against.
/// </summary>
public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var configured = configuration[$"{SanctumOptions.Section}:{nameof(SanctumOptions.TrustedProxies)}"];
        if (string.IsNullOrWhiteSpace(configured)) return services;
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            o.ForwardLimit = null; // every hop from the right that is a trusted proxy is skipped
            foreach (var entry in configured.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
            {
                if (entry.Contains('/')) o.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(entry, out var network) ? network : throw Invalid(entry));
                else o.KnownProxies.Add(IPAddress.TryParse(entry, out var address) ? address : throw Invalid(entry));
            }
        });
        return services;
    }

    /// <summary>First in the pipeline, and only when proxies are configured.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration[$"{SanctumOptions.Section}:{nameof(SanctumOptions.TrustedProxies)}"])
            ? app
            : app.UseForwardedHeaders();

    private static Microsoft.Extensions.Options.OptionsValidationException Invalid(string entry) =>
        new(SanctumOptions.Section, typeof(SanctumOptions),
            [$"Sanctum:TrustedProxies: '{entry}' is neither an IP address nor a network such as 10.0.0.0/8."]);
}
