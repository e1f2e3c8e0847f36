using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Auth;

/// <summary>
/// The origins this service's pages are served from (<c>Sanctum:PublicOrigins</c>; by default the loopback names on
/// the bound ports). Never derived from the request's Host, which a DNS-rebinding page chooses.
/// </summary>
public sealed class PublicOrigins(IOptions<SanctumOptions> options, IServer server)
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    // Computed at the first request, when the server knows its bound addresses.
    private readonly Lazy<HashSet<string>> _origins = new(() => Compute(options.Value.PublicOrigins, server));

    public IReadOnlySet<string> All => _origins.Value;

    public bool Allows(string origin) => Normalize(origin) is { } o && _origins.Value.Contains(o);

    /// <summary>scheme://host[:port] in lower case without a default port, or null when it is not such an origin.</summary>
    public static string? Normalize(string origin) =>
        Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/"
            && uri.Query.Length == 0 && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;

    /// <summary>The configured entries (comma-, semicolon- or space-separated).</summary>
    public static string[] Entries(string? configured) =>
        (configured ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>For the options' validation at start: every configured entry is an origin.</summary>
    public static bool AreValid(string? configured) => Entries(configured).All(entry => Normalize(entry) is not null);

    private static HashSet<string> Compute(string? configured, IServer server)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            foreach (var entry in configured.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
                set.Add(Normalize(entry) ?? throw new OptionsValidationException(SanctumOptions.Section, typeof(SanctumOptions),
                    [$"Sanctum:PublicOrigins: '{entry}' is not an origin such as https://sanctum.example.com."]));
            return set;
        }
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var bound = addresses.Select(a => Uri.TryCreate(a.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"), UriKind.Absolute, out var u) ? u : null)
            .OfType<Uri>().Select(u => (u.Scheme, u.Port)).Distinct().ToList();
        // A server without addresses (the in-memory test server) answers as http://localhost.
        if (bound.Count == 0) bound.Add(("http", 80));
        foreach (var (scheme, port) in bound)
            foreach (var name in LoopbackNames)
                set.Add(Normalize($"{scheme}://{name}:{port}")!);
        return set;
    }
}
