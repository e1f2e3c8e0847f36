using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Logs;

/// <summary>
/// The logger provider that offers every event to <see cref="LogStore"/>: message, level, category, event id, trace id,
/// the structured properties and those of the enclosing scopes (a job run's <c>JobRunId</c>, a health check's
/// <c>InstanceId</c>). Properties whose names say they hold a secret are masked, in the message as well.
/// </summary>
[ProviderAlias("SanctumStore")]
public sealed partial class LogStoreProvider(LogStore store) : ILoggerProvider, ISupportExternalScope
{
    public const string Mask = "********";
    public const string JobRunScope = "JobRunId", InstanceScope = "InstanceId";
    public const int MaxProperties = 32, MaxValue = 2000;

    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    internal LogStore Store => store;

    public ILogger CreateLogger(string categoryName) => new StoreLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    /// <summary>Names of properties never kept in clear: passwords, secrets, tokens, keys, credentials, cookies.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    [GeneratedRegex("password|passwd|secret|token|api_?key|authorization|cookie|credential", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"\{@?([A-Za-z0-9_]+)(?:[,:][^}]*)?\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    private sealed class StoreLogger(LogStoreProvider provider, string category) : ILogger
    {
        // The store's own namespace is left out, so a failure in writing can never feed the queue it comes from.
        private readonly bool _ignored = category.StartsWith("Sanctum.Api.Logs", StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => !_ignored && logLevel != LogLevel.None && logLevel >= provider.Store.Options.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var properties = new Dictionary<string, string?>(StringComparer.Ordinal);
            long? jobRun = null, instance = null;
            string? template = null, traceId = Activity.Current?.TraceId.ToHexString();
            var masked = false;

            void Add(string key, object? value)
            {
                if (key == "{OriginalFormat}") { template ??= value as string; return; }
                if (key == JobRunScope && TryLong(value, out var run)) jobRun = run;
                else if (key == InstanceScope && TryLong(value, out var id)) instance = id;
                else if (key == "TraceId" && traceId is null) traceId = value?.ToString();
                if (properties.Count >= MaxProperties || properties.ContainsKey(key)) return;
                if (IsSecretName(key) && value is not null) { properties[key] = Mask; masked = true; return; }
                var text = Convert.ToString(value, CultureInfo.InvariantCulture);
                properties[key] = text is { Length: > MaxValue } ? text[..MaxValue] : text;
            }

            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                foreach (var (key, value) in pairs) Add(key, value);
            provider._scopes.ForEachScope((scope, _) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                    foreach (var (key, value) in scopePairs)
                        if (key != "{OriginalFormat}") Add(key, value);
            }, (object?)null);

            var message = masked && template is not null ? Render(template, properties) : formatter(state, exception);
            provider.Store.Offer(new LogRecord(provider.Store.Clock.GetUtcNow(), logLevel, category, message,
                eventId.Id == 0 ? null : eventId.Id, eventId.Name, traceId, jobRun, instance, exception?.ToString(), properties));
        }

        private static bool TryLong(object? value, out long number)
        {
            number = 0;
            return value switch
            {
                long l => (number = l) == l,
                int i => (number = i) == i,
                _ => long.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out number),
            };
        }

        // The message again from its template, with the masked values in place of the secret ones.
        private static string Render(string template, Dictionary<string, string?> properties) =>
            Placeholder().Replace(template, m => properties.TryGetValue(m.Groups[1].Value, out var v) ? v ?? "(null)" : m.Value);
    }
}
