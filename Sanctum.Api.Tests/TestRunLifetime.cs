using Sanctum.Api.Tests.Browser;

namespace Sanctum.Api.Tests;

/// <summary>
/// What the whole run shares, closed once every test has run, in order: the shared Chromium, the read-only host
/// (its database is on the PostgreSQL server), then the test PostgreSQL server. In the tests' root namespace, so it
/// wraps every fixture.
/// </summary>
[SetUpFixture]
public sealed class TestRunLifetime
{
    [OneTimeTearDown]
    public async Task Stop()
    {
        await SharedChromium.StopAsync();
        if (ReadOnlyHost.Started) ReadOnlyHost.App.Dispose();
        if (PostgresTestServer.Started) PostgresTestServer.Instance.Stop();
    }
}
