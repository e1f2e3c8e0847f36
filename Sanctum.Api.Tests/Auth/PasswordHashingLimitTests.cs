using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Auth;

namespace Sanctum.Api.Tests.Auth;

/// <summary>
/// Sign-ins and password changes share one bcrypt concurrency limit, so a burst of them cannot take every core
/// (bench/RESULTS.md). The tests hold the only permit themselves to make the contention deterministic.
/// </summary>
public class PasswordHashingLimitTests
{
    private static SanctumApplication App(int queue) => new(new Dictionary<string, string?>
    {
        ["Sanctum:PasswordHashingConcurrency"] = "1",
        ["Sanctum:PasswordHashingQueueLimit"] = queue.ToString(),
    });

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client) =>
        Task.Run(() => client.PostAsync("/api/auth/login", Support.JsonBody("""{"username":"admin","password":"admin123"}""")));

    [Test]
    public async Task ASignInWaitsWhileBcryptIsBusyAndGoesThroughAfter()
    {
        await using var app = App(queue: 8);
        var client = app.CreateClient();
        var limiter = app.Services.GetRequiredService<PasswordHashingLimit>().Limiter;
        var permit = limiter.AttemptAcquire();
        Assert.That(permit.IsAcquired, Is.True);

        var signIn = SignInAsync(client);
        // The signal: the sign-in is in the limiter's queue (no guess at how long it takes to get there).
        Assert.That(SpinWait.SpinUntil(() => limiter.GetStatistics()!.CurrentQueuedCount == 1 || signIn.IsCompleted, TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(signIn.IsCompleted, Is.False, "the sign-in must queue while the only permit is taken");
        Assert.That(limiter.GetStatistics()!.CurrentQueuedCount, Is.EqualTo(1), "it waits in the queue");
        permit.Dispose();

        var response = await signIn;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        using var db = app.OpenDatabase();
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.EqualTo(1));
    }

    [Test]
    public async Task ASignInBeyondTheLimitAndItsQueueGets503WithRetryAfterAndWritesNothing()
    {
        await using var app = App(queue: 0);
        var client = app.CreateClient();
        using var db = app.OpenDatabase();
        using (var permit = app.Services.GetRequiredService<PasswordHashingLimit>().Limiter.AttemptAcquire())
        {
            Assert.That(permit.IsAcquired, Is.True);
            var refused = await SignInAsync(client);
            await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.That(refused.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM user_sessions"), Is.Zero);
            Assert.That(db.ExecuteScalar<long>("SELECT failed_login_attempts FROM users WHERE username = 'admin'"), Is.Zero);
        }
        Assert.That((await SignInAsync(client)).StatusCode, Is.EqualTo(HttpStatusCode.OK), "with the permit back the sign-in goes through");
    }
}
