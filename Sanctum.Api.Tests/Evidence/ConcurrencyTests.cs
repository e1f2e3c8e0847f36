using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// 64 concurrent writers on the same rows for a fixed time, against the real server process: no 5xx, no
/// "database is locked" reaching a client, and a final state that one of the serial orders of the acknowledged
/// writes would give. bcrypt is allowed to run 64 at once here so the handlers really race.
/// Quick: 2 s per kind of write; <see cref="ConcurrencyTestsFull"/>: 20 s.
/// </summary>
[Category("Evidence"), NonParallelizable]
public class ConcurrencyTests
{
    /// <summary>The long run (<see cref="ConcurrencyTestsFull"/>) instead of the quick one.</summary>
    protected virtual bool Full => false;

    private const int Writers = 64;
    private TimeSpan Duration => TimeSpan.FromSeconds(Full ? 20 : 2);

    private string _directory = null!;
    private ServerProcess _server = null!;
    private string _adminToken = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _directory = ServerProcess.NewDataDirectory();
        _server = await ServerProcess.StartAsync(_directory, new Dictionary<string, string>
        {
            ["Sanctum:PasswordHashingConcurrency"] = Writers.ToString(),
            ["Sanctum:LockoutThreshold"] = "1000000000",
        });
        _adminToken = await _server.AdminTokenAsync();
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        var output = _server.Output;
        await _server.DisposeAsync();
        ServerProcess.DeleteDataDirectory(_directory);
        Assert.That(output, Does.Not.Contain("database is locked"), "the server logged a lock error");
        Assert.That(output, Does.Not.Contain("fail:"), "the server logged an error:\n" + output);
    }

    [Test]
    public async Task ConcurrentFailedSignInsOnOneAccountAreAllCounted()
    {
        CreateUser("counter", "counter-password-1");
        var refused = 0;
        await RunAsync(async (client, _, stop) =>
        {
            var (status, _) = await SendAsync(client, HttpMethod.Post, "/api/auth/login", new { username = "counter", password = "wrong-password" }, stop);
            Assert.That(status, Is.EqualTo(HttpStatusCode.Unauthorized));
            Interlocked.Increment(ref refused);
        });

        using var db = _server.OpenDatabase();
        Assert.That(refused, Is.GreaterThan(Writers));
        Assert.That(db.ExecuteScalar<long>("SELECT failed_login_attempts FROM users WHERE username = 'counter'"), Is.EqualTo(refused),
            "every refused sign-in must add exactly one to the counter (no lost updates)");
    }

    [Test]
    public async Task ConcurrentSignInsOnOneAccountEachGetTheirOwnSession()
    {
        var id = CreateUser("signer", "copper-signal-71");
        var tokens = new ConcurrentBag<string>();
        await RunAsync(async (client, _, stop) =>
        {
            var (status, body) = await SendAsync(client, HttpMethod.Post, "/api/auth/login", new { username = "signer", password = "copper-signal-71" }, stop);
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
            tokens.Add(JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!);
        });

        using var db = _server.OpenDatabase();
        var stored = db.Query<string>("SELECT session_token FROM user_sessions WHERE user_id = @id", new { id }).ToHashSet();
        Assert.That(stored, Has.Count.EqualTo(tokens.Count));
        Assert.That(tokens.All(t => stored.Contains(Sanctum.Api.Auth.SessionTokens.Hash(t))), Is.True);
        Assert.That(db.ExecuteScalar<string>("SELECT last_login FROM users WHERE id = @id", new { id }), Is.Not.Null);
    }

    /// <summary>
    /// In every round all 64 writers, on one session, try to change the same current password to their own new one.
    /// Serially exactly one of them succeeds and the rest are told the current password is wrong; the stored hash
    /// must be the winner's.
    /// </summary>
    [Test]
    public async Task ConcurrentPasswordChangesFromTheSamePasswordHaveExactlyOneWinner()
    {
        CreateUser("racer", "racer-password-0");
        using var login = _server.CreateClient();
        var token = await SanctumApplication.LoginAsync(login, "racer", "racer-password-0");
        var current = "racer-password-0";
        var rounds = 0;
        var deadline = DateTime.UtcNow + Duration;
        using var client = _server.CreateClient(token);
        while (DateTime.UtcNow < deadline)
        {
            var from = current;
            var results = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
            {
                var to = $"swift-{rounds}-{w}-harbor-lantern";
                var (status, body) = await SendAsync(client, HttpMethod.Post, "/api/auth/password", new { current_password = from, new_password = to }, default);
                Assert.That(status, Is.AnyOf(HttpStatusCode.NoContent, HttpStatusCode.BadRequest), body);
                return (status, to);
            }));
            var winners = results.Where(r => r.status == HttpStatusCode.NoContent).ToList();
            Assert.That(winners, Has.Count.EqualTo(1), $"round {rounds}: {winners.Count} changes from the same password were all acknowledged");
            current = winners[0].to;
            rounds++;
        }

        using var db = _server.OpenDatabase();
        var hash = db.ExecuteScalar<string>("SELECT password_hash FROM users WHERE username = 'racer'");
        Assert.That(BCrypt.Net.BCrypt.Verify(current, hash), Is.True, "the stored password is not the acknowledged winner's");
        TestContext.Out.WriteLine($"{rounds} rounds of {Writers} racing changes");
    }

    /// <summary>
    /// Every admin write of the build that sets one value in one row, 64 writers on the same row with distinct values:
    /// the row must end holding an acknowledged value that no later-sent acknowledged write should have replaced
    /// (a write sent after another was acknowledged is ordered after it in every serial order).
    /// </summary>
    [Test]
    public async Task ConcurrentAdminWritesToOneRowEndWithTheValueOfALastWrite()
    {
        using var probe = _server.CreateClient(_adminToken);
        var kinds = await RegisterKind.AvailableAsync(probe);
        if (kinds.Count == 0) Assert.Inconclusive("this build has no single-value admin writes yet");
        foreach (var kind in kinds)
        {
            var acks = new ConcurrentBag<(string Value, long Sent, long Acked)>();
            var counter = 0;
            await RunAsync(async (client, w, _) =>
            {
                var value = $"c{w}-{Interlocked.Increment(ref counter)}";
                var sent = System.Diagnostics.Stopwatch.GetTimestamp();
                var (status, body) = await kind.WriteAsync(client, 0, value);
                var acked = System.Diagnostics.Stopwatch.GetTimestamp();
                Assert.That((int)status, Is.InRange(200, 299), $"{kind}: {body}");
                acks.Add((value, sent, acked));
            }, duration: Full ? Duration : TimeSpan.FromSeconds(1));

            using var db = _server.OpenDatabase();
            var final = kind.Read(db, 0);
            var winner = acks.SingleOrDefault(a => a.Value == final);
            Assert.That(winner.Value, Is.Not.Null, $"{kind}: the final value {final} was never acknowledged");
            var overwritten = acks.Where(a => a.Sent > winner.Acked).Take(3).ToList();
            Assert.That(overwritten, Is.Empty, $"{kind}: {final} survived writes sent after it was acknowledged");
            TestContext.Out.WriteLine($"{kind}: {acks.Count} acknowledged writes, final {final}");
        }
    }

    private long CreateUser(string username, string password)
    {
        using var db = _server.OpenDatabase();
        return db.ExecuteScalar<long>("INSERT INTO users (username, email, password_hash, role) VALUES (@username, @email, @hash, 'user') RETURNING id",
            new { username, email = $"{username}@example.test", hash = BCrypt.Net.BCrypt.HashPassword(password, 4) });
    }

    /// <summary>Runs <see cref="Writers"/> loops of <paramref name="write"/> for <see cref="Duration"/> on one shared client.</summary>
    private async Task RunAsync(Func<HttpClient, int, CancellationToken, Task> write, string? token = null, TimeSpan? duration = null)
    {
        using var client = _server.CreateClient(token ?? _adminToken);
        using var stop = new CancellationTokenSource(duration ?? Duration);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            while (!stop.IsCancellationRequested) await write(client, w, CancellationToken.None);
        }));
    }

    /// <summary>Sends JSON and checks what must hold for every answer: below 500 and no lock error in the body.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await client.SendAsync(request, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        Assert.That((int)response.StatusCode, Is.LessThan(500), $"{method} {path}: {text}");
        Assert.That(text, Does.Not.Contain("database is locked").IgnoreCase.And.Not.Contain("SQLITE_BUSY"), $"{method} {path}");
        return (response.StatusCode, text);
    }
}

/// <summary>The long run of <see cref="ConcurrencyTests"/>: explicit, so only <c>dotnet test --filter Category=Full</c> runs it.</summary>
[Category("Full"), Explicit("the long run: dotnet test --filter Category=Full")]
public sealed class ConcurrencyTestsFull : ConcurrencyTests
{
    protected override bool Full => true;
}
