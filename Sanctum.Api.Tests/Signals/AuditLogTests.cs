using Microsoft.Extensions.DependencyInjection;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Jobs;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Signals;

/// <summary>The hash-chained audit log: recording, reading with filters and cursors, verifying, the write paths.</summary>
[NonParallelizable]
public class AuditLogTests
{
    private SanctumApplication _app = null!;
    private RoleClients _clients = null!;
    private HttpClient Admin => _clients.Admin;
    private AuditLog Audit => _app.Services.GetRequiredService<AuditLog>();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _app = new SanctumApplication(new Dictionary<string, string?> { ["Sanctum:HealthChecks:Enabled"] = "false" });
        _clients = await RoleClients.CreateAsync(_app);
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    private async Task RecordAsync(int count, string action = "test.event", string targetType = "thing")
    {
        for (var i = 0; i < count; i++) Audit.Record(new AuditEvent(action, targetType, i.ToString(), new { index = i }));
        await Audit.FlushAsync(TimeSpan.FromSeconds(10));
    }

    private Task<JsonElement> VerifyAsync() => Admin.GetFromJsonAsync<JsonElement>("/api/audit/verify");

    [Test]
    public async Task AnEventIsStoredWithWhoWhatWhenAndFromWhere()
    {
        var tool = "a-" + Guid.NewGuid().ToString("N")[..8];
        (await Admin.PostAsJsonAsync("/api/tools", new { id = tool, name = "T", category = "master" })).EnsureSuccessStatusCode();
        var instance = (await (await Admin.PostAsJsonAsync($"/api/tools/{tool}/instances", new { name = "i" })).JsonAsync()).GetProperty("id").GetInt64();
        (await Admin.PatchAsJsonAsync($"/api/tools/{tool}/instances/{instance}", new { status = "Off" })).EnsureSuccessStatusCode();

        var page = await Admin.GetFromJsonAsync<JsonElement>("/api/audit?action=status");
        var item = page.GetProperty("items").EnumerateArray().Single();
        Assert.That(item.GetProperty("action").GetString(), Is.EqualTo("status.changed"));
        Assert.That(item.GetProperty("actor").GetString(), Is.EqualTo("admin"));
        Assert.That(item.GetProperty("actor_id").GetInt64(), Is.EqualTo(1));
        Assert.That(item.GetProperty("address").GetString(), Is.Not.Empty);
        Assert.That(item.GetProperty("target_type").GetString(), Is.EqualTo("instance"));
        Assert.That(item.GetProperty("target_id").GetString(), Is.EqualTo(instance.ToString()));
        Assert.That(item.GetProperty("details").GetProperty("to").GetString(), Is.EqualTo("Off"));
        Assert.That(item.GetProperty("details").GetProperty("source").GetString(), Is.EqualTo("manual"));
        Assert.That(Timestamp.Parse(item.GetProperty("at").GetString()!), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
    }

    [Test]
    public async Task FiltersAndTheCursorWalkTheLogNewestFirstWithoutGapsOrRepeats()
    {
        await RecordAsync(25, "paged.event", "page-thing");
        await RecordAsync(3, "paged-other.event", "page-thing");

        var seen = new List<string>();
        string url = "/api/audit?action=paged&limit=10";
        while (true)
        {
            var page = await Admin.GetFromJsonAsync<JsonElement>(url);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("target_id").GetString()!));
            if (page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null) break;
            url = $"/api/audit?action=paged&limit=10&cursor={page.GetProperty("next_cursor").GetInt64()}";
        }
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, 25).Reverse().Select(i => i.ToString())));

        var byTarget = await Admin.GetFromJsonAsync<JsonElement>("/api/audit?target=page-thing:7");
        Assert.That(byTarget.GetProperty("items").GetArrayLength(), Is.EqualTo(1), "only paged.event reaches index 7");
        var exact = await Admin.GetFromJsonAsync<JsonElement>("/api/audit?action=paged-other.event");
        Assert.That(exact.GetProperty("items").GetArrayLength(), Is.EqualTo(3));
        var none = await Admin.GetFromJsonAsync<JsonElement>("/api/audit?actor=nobody");
        Assert.That(none.GetProperty("items").GetArrayLength(), Is.Zero);
        var future = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit?since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        Assert.That(future.GetProperty("items").GetArrayLength(), Is.Zero);
    }

    [TestCase("limit=0")]
    [TestCase("limit=501")]
    [TestCase("cursor=0")]
    [TestCase("since=yesterday")]
    public async Task BadQueriesAreRefused(string query)
    {
        var response = await Admin.GetAsync($"/api/audit?{query}");
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [TestCase("viewer")]
    [TestCase("user")]
    [TestCase("anonymous")]
    public async Task OnlyAdminsReadOrVerifyTheLog(string role)
    {
        var expected = role == "anonymous" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden;
        Assert.That((await _clients.For(role).GetAsync("/api/audit")).StatusCode, Is.EqualTo(expected));
        Assert.That((await _clients.For(role).GetAsync("/api/audit/verify")).StatusCode, Is.EqualTo(expected));
    }

    [Test]
    public async Task AnIntactChainVerifies()
    {
        await RecordAsync(20);
        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True);
        Assert.That(result.GetProperty("checked").GetInt64(), Is.GreaterThanOrEqualTo(20));
        Assert.That(result.GetProperty("first_bad_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public async Task TheTableRefusesUpdates()
    {
        await RecordAsync(1);
        using var db = _app.OpenDatabase();
        var error = Assert.Catch<System.Data.Common.DbException>(() => db.Execute("UPDATE audit_log SET actor = 'someone-else'"));
        Assert.That(error!.Message, Does.Contain("append-only"));
    }

    [TestCase("""{"keep_days":0}""", "params.keep_days")]
    [TestCase("""{"keep_days":"30"}""", "params.keep_days")]
    [TestCase("""{"keep_days":1.5}""", "params.keep_days")]
    [TestCase("""{"days":30}""", "params.days")]
    public void RetentionRefusesBadParams(string json, string field)
    {
        var kind = _app.Services.GetServices<IJobKind>().Single(k => k.Kind == "audit-retention");
        var errors = new Sanctum.Api.Infrastructure.Errors();
        kind.Validate(JsonDocument.Parse(json).RootElement, errors);
        Assert.That(errors.ToDictionary().Keys, Is.EqualTo(new[] { field }));
        var fine = new Sanctum.Api.Infrastructure.Errors();
        kind.Validate(JsonDocument.Parse("""{"keep_days":90}""").RootElement, fine);
        Assert.That(fine.Any, Is.False);
    }

    [Test]
    public async Task RecordingWhileTheCallerHoldsTheWriteLockNeitherBlocksNorLosesTheEvent()
    {
        using var db = _app.OpenDatabase();
        using (var tx = db.BeginTransaction())
        {
            db.Execute("UPDATE tools SET description = 'held' WHERE id = 'broca'", transaction: tx);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Audit.Record(new AuditEvent("test.locked"));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "Record waited for the write lock");
            tx.Commit();
        }
        await Audit.FlushAsync(TimeSpan.FromSeconds(10));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'test.locked'"), Is.EqualTo(1));
    }

    [Test]
    public async Task AnEventRecordedInsideARolledBackTransactionLeavesNoRow()
    {
        using var db = _app.OpenDatabase();
        using (var tx = db.BeginTransaction())
        {
            await Audit.RecordAsync(new AuditEvent("test.rolled-back"), null, db, tx);
            tx.Rollback();
        }
        using (var tx = db.BeginTransaction())
        {
            await Audit.RecordAsync(new AuditEvent("test.committed"), null, db, tx);
            tx.Commit();
        }
        // On PostgreSQL the committed row is sealed into the chain by the writer; the flush waits for that.
        await Audit.FlushAsync(TimeSpan.FromSeconds(10));
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_unsealed"), Is.Zero, "nothing left unsealed, the rolled-back row neither");
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'test.rolled-back'"), Is.Zero);
        Assert.That(db.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'test.committed'"), Is.EqualTo(1));
        Assert.That((await VerifyAsync()).GetProperty("ok").GetBoolean(), Is.True);
    }

    [Test]
    public async Task ConcurrentWritersKeepOneUnbrokenChain()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                if (i % 5 == 0)
                {
                    // As a request would be: on PostgreSQL a transaction that lost the race for the chain's end is run again.
                    await SerializationRetry.RunAsync(async () =>
                    {
                        await using var db = await _app.Services.GetRequiredService<Database>().OpenAsync();
                        await using var tx = await db.BeginTransactionAsync();
                        await Audit.RecordAsync(new AuditEvent("conc.tx", "w", $"{w}-{i}"), null, db, tx);
                        await tx.CommitAsync();
                    });
                }
                else Audit.Record(new AuditEvent("conc.queued", "w", $"{w}-{i}"));
            }
        })));
        // Every queued event stored and every committed one sealed (verify's own flush waits 2 s at most).
        await Audit.FlushAsync(TimeSpan.FromSeconds(60));
        var result = await VerifyAsync();
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        using var check = _app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'conc.%'"), Is.EqualTo(200));
    }

    [Test]
    public async Task ConcurrentSettingWritesEachCommitTheirAuditRowAndTheChainVerifies()
    {
        // 16 writers on one key and 16 on keys of their own, as the bench loads it: every acknowledged write has its
        // setting.changed row (none lost, none extra), and the chain they extend concurrently verifies.
        var key = "conc_" + Guid.NewGuid().ToString("N")[..8];
        string? checkpoint = (await Admin.GetFromJsonAsync<JsonElement>("/api/audit/checkpoint")).GetProperty("checkpoint").GetString();
        var acknowledged = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async w =>
        {
            for (var i = 0; i < 10; i++)
            {
                var response = await Admin.PutAsJsonAsync($"/api/config/{(w < 16 ? key : $"{key}_{w}")}", new { value = $"{w}-{i}" });
                Assert.That((int)response.StatusCode, Is.EqualTo(200).Or.EqualTo(201), await response.Content.ReadAsStringAsync());
                Interlocked.Increment(ref acknowledged);
            }
        }));
        Assert.That(acknowledged, Is.EqualTo(320));
        await Audit.FlushAsync(TimeSpan.FromSeconds(60));
        var result = await Admin.GetFromJsonAsync<JsonElement>($"/api/audit/verify?checkpoint={checkpoint}");
        Assert.That(result.GetProperty("ok").GetBoolean(), Is.True, result.ToString());
        Assert.That(result.GetProperty("checkpoint").GetString(), Is.EqualTo("matched"));
        using var check = _app.OpenDatabase();
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'setting.changed' AND target_id LIKE @p",
            new { p = key + "%" }), Is.EqualTo(320));
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM setting_history WHERE key LIKE @p", new { p = key + "%" }), Is.EqualTo(320));
        Assert.That(check.ExecuteScalar<long>("SELECT COUNT(*) FROM audit_unsealed"), Is.Zero);
    }
}
