using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Tools;

namespace Sanctum.Api.Benchmark;

/// <summary>
/// The benchmark's yardstick (bench/run.sh): <c>GET /api/benchmark/constant</c> answers precomputed JSON bytes
/// behind the same authentication and policy as the read API, so an endpoint's throughput divided by this one's
/// isolates what its handler and SQL cost; <c>GET /api/benchmark/anonymous</c> answers the same without
/// authentication, so the ratio to it includes the session lookup too (bench/vs-flask.sh). Mapped only when <c>Sanctum:Benchmark:Enabled=true</c>, and never in
/// the OpenAPI document.
/// </summary>
public static class BenchmarkEndpoints
{
    public const string EnabledKey = "Sanctum:Benchmark:Enabled";
    private const int MaxBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapBenchmark(this IEndpointRouteBuilder routes)
    {
        var services = routes.ServiceProvider;
        if (!services.GetRequiredService<IConfiguration>().GetValue<bool>(EnabledKey)) return routes;

        // The default body is the /api/tools response itself, serialized once at start-up.
        using (var db = services.GetRequiredService<Database>().Open())
        {
            var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var tools = db.Query<Tool>($"SELECT {Tool.Columns} FROM tools ORDER BY category, name, id");
            Bodies[0] = JsonSerializer.SerializeToUtf8Bytes(tools, json);
        }

        routes.MapGet("/api/benchmark/constant", Constant).RequireReader().ExcludeFromDescription();
        // The same bytes without authentication: the yardstick that shows what the session lookup costs.
        routes.MapGet("/api/benchmark/anonymous", Constant).AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static readonly ConcurrentDictionary<int, byte[]> Bodies = new();

    /// <summary>The tools-sized body, or with <c>?bytes=N</c> a JSON array padded to exactly N bytes (built once per N).</summary>
    private static Results<FileContentHttpResult, BadRequest> Constant(int? bytes = null)
    {
        if (bytes is < 16 or > MaxBytes) return TypedResults.BadRequest();
        var body = bytes is not { } n ? Bodies[0]
            : Bodies.TryGetValue(n, out var cached) ? cached
            : Bodies.Count < 64 ? Bodies.GetOrAdd(n, Padded) : Padded(n);
        return TypedResults.Bytes(body, "application/json");
    }

    // ["xxxx…"] : 4 bytes of punctuation around n - 4 letters.
    private static byte[] Padded(int n) => Encoding.UTF8.GetBytes("[\"" + new string('x', n - 4) + "\"]");
}
