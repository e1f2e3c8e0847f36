using System.Text.Json;
using Sanctum.Api.Data;

namespace Sanctum.Api.Tools;

/// <summary>
/// The tools list, the read every page makes, kept in memory until the next commit to the database (any table, any
/// writer: see <see cref="DataVersion"/>). Profiling GET /api/tools showed about half its time in compiling the
/// statement and reading 91 values through Microsoft.Data.Sqlite, which keeps no prepared statements between
/// commands; this serves the same rows, filtered and ordered the same way, at the cost of one prepared PRAGMA.
/// </summary>
public sealed class ToolListCache(DataVersion version)
{
    private volatile Entry? _entry;

    /// <summary>The whole list in its order (category, name, id), loaded by <paramref name="load"/> when stale.</summary>
    public IReadOnlyList<Tool> Get(Func<IReadOnlyList<Tool>> load)
    {
        // The version is read before the rows: a commit after this read changes the version, so rows loaded here
        // can be newer than their version but never older, and the next call reloads.
        var current = version.Current();
        if (_entry is { } entry && entry.Version == current) return entry.Tools;
        var tools = load();
        // JSON nodes initialize lazily and are not safe to do so from several threads: serialize once to finish that.
        JsonSerializer.SerializeToUtf8Bytes(tools);
        _entry = new Entry(current, tools);
        return tools;
    }

    private sealed record Entry(long Version, IReadOnlyList<Tool> Tools);
}

public static class ToolListCacheSetup
{
    public static IServiceCollection AddToolListCache(this IServiceCollection services) =>
        services.AddSingleton<DataVersion>().AddSingleton<ToolListCache>();
}
