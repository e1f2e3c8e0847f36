using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Sanctum.Api.Tests.Management;

/// <summary>One request of a role matrix: what to send, and how it reads in a test name.</summary>
public sealed record Call(string Method, string Url, string? Body = null)
{
    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Body is not null) request.Content = Support.JsonBody(Body);
        return request;
    }

    public override string ToString() => $"{Method} {Url}";
}

/// <summary>Clients for every role on one application, for the role matrices.</summary>
/// <summary>One application per fixture with a signed-in client for each role (the management tests' shared setup).</summary>
public abstract class ManagementFixture
{
    protected SanctumApplication _app = null!;
    protected RoleClients _clients = null!;
    protected HttpClient Admin => _clients.Admin;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication();
        _clients = await RoleClients.CreateAsync(_app);
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();
}

public sealed class RoleClients
{
    public required HttpClient Anonymous { get; init; }
    public required HttpClient Viewer { get; init; }
    public required HttpClient User { get; init; }
    public required HttpClient Admin { get; init; }

    public static async Task<RoleClients> CreateAsync(SanctumApplication app) => new()
    {
        Anonymous = app.CreateClient(),
        Viewer = await app.CreateClientForRoleAsync("viewer"),
        User = await app.CreateClientForRoleAsync("user"),
        Admin = await app.CreateAdminClientAsync(),
    };

    public HttpClient For(string role) => role switch
    {
        "anonymous" => Anonymous,
        "viewer" => Viewer,
        "user" => User,
        "admin" => Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };
}

public static class ManagementSupport
{
    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, Call call) => client.SendAsync(call.ToRequest());

    /// <summary>
    /// Every row of the tables the management API writes, as text: equal before and after a request means it
    /// changed nothing. (Sessions and login bookkeeping are left out: signing in changes them.)
    /// </summary>
    public static string Fingerprint(this SanctumApplication app)
    {
        using var db = app.OpenDatabase();
        var text = new System.Text.StringBuilder();
        foreach (var sql in new[]
        {
            "SELECT * FROM tools ORDER BY id",
            "SELECT * FROM tool_instances ORDER BY id",
            "SELECT * FROM agents ORDER BY id",
            "SELECT * FROM agent_configs ORDER BY id",
            "SELECT id, username, email, password_hash, role, status, must_change_password, permissions, updated_at FROM users ORDER BY id",
            "SELECT * FROM system_config ORDER BY id",
            "SELECT * FROM env_vars ORDER BY id",
        })
        {
            foreach (IDictionary<string, object?> row in db.Query(sql))
                text.AppendLine(string.Join("|", row.Select(c => $"{c.Key}={c.Value}")));
            text.AppendLine("--");
        }
        return text.ToString();
    }

    /// <summary>Asserts the request is refused with <paramref name="status"/> and changes nothing in the database.</summary>
    public static async Task<JsonElement> AssertRefusedAsync(this SanctumApplication app, HttpClient client, Call call, HttpStatusCode status)
    {
        var before = app.Fingerprint();
        var body = await (await client.SendAsync(call)).AssertProblemAsync(status);
        Assert.That(app.Fingerprint(), Is.EqualTo(before), $"{call} changed the database although it was refused");
        return body;
    }

    /// <summary>Asserts a 400 whose errors name exactly <paramref name="fields"/>, with nothing changed.</summary>
    public static async Task AssertInvalidAsync(this SanctumApplication app, HttpClient client, Call call, params string[] fields)
    {
        var body = await app.AssertRefusedAsync(client, call, HttpStatusCode.BadRequest);
        Assert.That(body.TryGetProperty("errors", out var errors), Is.True, $"{call}: a 400 must carry field errors");
        Assert.That(errors.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(fields), $"{call}: {errors}");
    }

    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}

/// <summary>Collects every log message (with its structured values and exception) the application writes.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    public string Text => string.Join("\n", _lines);

    /// <summary>An application over the same data directory whose logs, at every level, land here.</summary>
    public WebApplicationFactory<Program> Attach(SanctumApplication app) => app.WithWebHostBuilder(builder =>
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(this);
            logging.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
        }
    }
}
