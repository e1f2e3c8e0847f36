using Sanctum.Api.Data;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Item 5c: a full disk. SQLite's page limit (max_page_count) on every pooled connection stands in for the disk.</summary>
public class DiskFullTests
{
    private static void SetPageLimit(SanctumApplication app, bool full)
    {
        // Hold many pooled connections open at once so every one the application may pick up gets the limit.
        var database = app.Services.GetRequiredService<Database>();
        var connections = Enumerable.Range(0, 40).Select(_ => database.Open()).ToList();
        foreach (var c in connections)
            c.Execute($"PRAGMA max_page_count = {(full ? c.ExecuteScalar<long>("PRAGMA page_count") : 4294967294L)}");
        foreach (var c in connections) c.Dispose();
    }

    [Test]
    public async Task AWriteOnAFullDiskIs503WithRetryAfterAndReadyzIsUnhealthyUntilSpaceIsBack()
    {
        TestEngine.RequireSqlite("fills SQLite's page limit; a PostgreSQL server watches its own disk");
        await using var app = new SanctumApplication();
        var admin = await app.CreateAdminClientAsync();
        Assert.That((await admin.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        SetPageLimit(app, full: true);
        var big = new string('x', 60_000);
        var response = await admin.PutAsJsonAsync("/api/config/sanctum_base_path", new { value = big });
        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.That(response.Headers.RetryAfter?.Delta, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        // The limit stands in for the disk only on the connections it was set on: one busy elsewhere while it was set
        // (a background writer) still sees room, so set it again until /readyz meets a limited one, briefly.
        var unready = HttpStatusCode.OK;
        for (var i = 0; i < 20 && unready != HttpStatusCode.ServiceUnavailable; i++)
        {
            if (i > 0) SetPageLimit(app, full: true);
            unready = (await admin.GetAsync("/readyz")).StatusCode;
        }
        Assert.That(unready, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        using (var db = app.OpenDatabase())
            Assert.That(db.ExecuteScalar<string>("SELECT config_value FROM system_config WHERE config_key = 'sanctum_base_path'"), Is.Not.EqualTo(big));

        // Space is back. A pooled connection busy elsewhere (a background job) during the reset keeps its limit until
        // the next reset, so reset until /readyz agrees, briefly.
        var ready = HttpStatusCode.ServiceUnavailable;
        for (var i = 0; i < 20 && ready != HttpStatusCode.OK; i++)
        {
            SetPageLimit(app, full: false);
            ready = (await admin.GetAsync("/readyz")).StatusCode;
        }
        Assert.That(ready, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await admin.PutAsJsonAsync("/api/config/sanctum_base_path", new { value = big })).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
