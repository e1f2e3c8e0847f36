using System.Collections.Concurrent;
using System.Text.Json;

namespace Sanctum.Api.Data;

/// <summary>
/// Results of hot reads kept in memory until the next commit to the database by anyone (this process's pool, another
/// process, the sqlite3 shell: see <see cref="DataVersion"/>), so an answer from here is never older than the last
/// commit. Profiling showed most of a small read's time in compiling its statements and reading values through
/// Microsoft.Data.Sqlite, which keeps no prepared statements between commands; a hit costs one prepared PRAGMA.
/// <para>
/// A result may depend only on the database and its key: whatever else it depends on (the caller's visibility, the
/// query, the clock) goes into the key or is checked by the caller on each hit (a session's expiry). Keys are
/// compared with <see cref="object.Equals(object?)"/>; each use has its own record type as key, so uses never collide.
/// </para>
/// </summary>
public sealed class ResultCache(DataVersion version)
{
    /// <summary>Entries per generation; when full, the generation starts empty again (bounds memory, keeps the hot ones).</summary>
    public const int MaxEntries = 1024;

    private volatile Generation _generation = new(long.MinValue);

    /// <summary>The result for <paramref name="key"/>, loaded by <paramref name="load"/> when absent or older than the last commit.</summary>
    public T Get<TKey, T>(TKey key, Func<TKey, T> load) where TKey : notnull where T : class => Find(key, load)!;

    /// <summary>Like <see cref="Get{TKey,T}"/>, but a null result (nothing found) is returned and not kept.</summary>
    public T? Find<TKey, T>(TKey key, Func<TKey, T?> load) where TKey : notnull where T : class
    {
        // The version is read before the result: a commit after this read changes the version, so a result loaded
        // here can be newer than its generation but never older, and the next call after that commit reloads.
        var generation = CurrentGeneration();
        if (generation.Entries.TryGetValue(key, out var hit)) return (T)hit;

        var value = load(key);
        if (value is null) return null;
        Keep(generation, key, value);
        return value;
    }

    /// <summary>
    /// Like <see cref="Get{TKey,T}"/> with an asynchronous load; a hit completes synchronously. Concurrent misses of one
    /// key share one load (<see cref="LoadOnceAsync"/>).
    /// </summary>
    public ValueTask<T> GetAsync<TKey, T>(TKey key, Func<TKey, Task<T>> load) where TKey : notnull where T : class
    {
        var generation = CurrentGeneration();
        return generation.Entries.TryGetValue(key, out var hit) ? ValueTask.FromResult((T)hit) : new(LoadOnceAsync(generation, key, load)!);
    }

    /// <summary>Like <see cref="Find{TKey,T}"/> with an asynchronous load; a hit completes synchronously.</summary>
    public ValueTask<T?> FindAsync<TKey, T>(TKey key, Func<TKey, Task<T?>> load) where TKey : notnull where T : class
    {
        var generation = CurrentGeneration();
        return generation.Entries.TryGetValue(key, out var hit) ? ValueTask.FromResult((T?)hit) : new(LoadOnceAsync(generation, key, load));
    }

    /// <summary>
    /// The load of a key missing from a generation, run once however many requests miss it together (on the first
    /// one's connection; the others wait for it). After each commit every request in flight missed at once and ran the
    /// same query: at 256 connections on PostgreSQL the users page fell from about 16,000 to 150 req/s while background
    /// work committed every second. A failed load is not kept: the next miss tries again.
    /// </summary>
    private static async Task<T?> LoadOnceAsync<TKey, T>(Generation generation, TKey key, Func<TKey, Task<T>> load) where TKey : notnull where T : class?
    {
        var loading = generation.Loading.GetOrAdd(key, _ => new Lazy<Task<object?>>(async () =>
        {
            var value = await load(key);
            if (value is not null) Keep(generation, key, value);
            return value;
        }));
        try
        {
            return (T?)await loading.Value;
        }
        finally
        {
            generation.Loading.TryRemove(new KeyValuePair<object, Lazy<Task<object?>>>(key, loading));
        }
    }

    private Generation CurrentGeneration()
    {
        var current = version.Current();
        var generation = _generation;
        if (generation.Version != current || Volatile.Read(ref generation.Count) >= MaxEntries)
        {
            generation = new Generation(current);
            _generation = generation;
        }
        return generation;
    }

    private static void Keep(Generation generation, object key, object value)
    {
        // Results are shared by concurrent requests, and JSON nodes (agents' and tools' JSON columns) initialize
        // lazily in a way that is not thread-safe: serializing once here finishes that before anyone shares it.
        JsonSerializer.SerializeToUtf8Bytes(value, value.GetType());
        if (generation.Entries.TryAdd(key, value)) Interlocked.Increment(ref generation.Count);
    }

    private sealed class Generation(long version)
    {
        public long Version { get; } = version;
        public ConcurrentDictionary<object, object> Entries { get; } = new();
        public ConcurrentDictionary<object, Lazy<Task<object?>>> Loading { get; } = new();
        // Counted here: ConcurrentDictionary.Count takes every lock of the dictionary, on every request.
        public int Count;
    }
}

public static class ResultCacheSetup
{
    public static IServiceCollection AddResultCache(this IServiceCollection services) =>
        services.AddSingleton<DataVersion>().AddHostedService(s => s.GetRequiredService<DataVersion>()).AddSingleton<ResultCache>();
}
