using System.Diagnostics;
using System.Net.Http.Headers;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>
/// For every operation in the served OpenAPI document and every role, sends the requests <see cref="BadRequests"/>
/// generates and requires: no 5xx, and after every 4xx a database identical to before (<see cref="DatabaseDigest"/>).
/// New endpoints are covered as soon as they are in the document. Quick: every generated request (but the > 1 MiB
/// strings) as admin and a fixed third of them for the other roles; SANCTUM_FULL=1: all of them for every role.
/// </summary>
[Category("Full"), NonParallelizable]
public class BadInputSweepTests
{
    /// <summary>The session roles, and the chat bridge's two bearer keys (system_config chat_api_key / chat_admin_key).</summary>
    public static readonly string[] Roles = ["anonymous", "viewer", "user", "admin", "chat_api_key", "chat_admin_key"];

    private SanctumApplication _app = null!;
    private List<ApiOperation> _operations = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        // Rate limits raised so that every generated request reaches validation instead of a 429.
        _app = new SanctumApplication(new Dictionary<string, string?>
        {
            // A check created by a 2xx would be probed in the background and change rows between a 4xx and its digest.
            ["Sanctum:HealthChecks:Enabled"] = "false",
            ["Sanctum:ChatBridge:MessagesPerMinute"] = "1000000",
            ["Sanctum:ChatBridge:InboxPerMinute"] = "1000000",
            ["Sanctum:ChatBridge:OutboxPerMinute"] = "1000000",
            ["Sanctum:ChatBridge:ResponsesPerMinute"] = "1000000",
            ["Sanctum:ChatBridge:SessionsPerMinute"] = "1000000",
            ["Sanctum:ChatBridge:AnonymousMessagesPerHourPerAddress"] = "1000000",
            ["Sanctum:ChatBridge:AnonymousMessagesPerHour"] = "1000000",
        });
        ChatBridge.ChatBridgeSupport.AllowAnonymousChat(_app);
        var document = await _app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        _operations = ApiOperation.Read(document);
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    [Test]
    public void TheSweepSeesEveryOperationOfTheDocument()
    {
        Assert.That(_operations.Select(o => o.OperationId), Is.Unique);
        Assert.That(_operations.Select(o => o.OperationId), Does.Contain("Login").And.Contain("ListTools").And.Contain("GetAgent"));
        var login = _operations.Single(o => o.OperationId == "Login");
        Assert.That(login.Body?["properties"]?.AsObject().Select(p => p.Key), Is.EquivalentTo(new[] { "username", "password" }));
        Assert.That(BadRequests.For(login, full: false).Count(), Is.GreaterThan(50));
    }

    [TestCaseSource(nameof(Roles))]
    public async Task NoGeneratedBadRequestGetsA5xxOrChangesTheDatabaseWhenRefused(string role)
    {
        // Known gap: on PostgreSQL the sweep stops making progress partway (the anonymous role), not yet diagnosed.
        TestEngine.RequireSqlite("the sweep hangs on PostgreSQL (open issue of the PostgreSQL port)");
        var watch = Stopwatch.StartNew();
        var client = await ClientForAsync(role);
        using var db = _app.OpenDatabase();
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var baseline = DatabaseDigest.Compute(db);
        var baselineDump = DatabaseDigest.Dump(db);
        var sent = 0;
        var skipped = 0;

        var bridgeKey = role.StartsWith("chat_", StringComparison.Ordinal);
        // The bridge keys open only the chat bridge; elsewhere they are just unknown tokens, which anonymous covers.
        foreach (var op in _operations.Where(o => !bridgeKey || o.Template.StartsWith("/api/v1", StringComparison.Ordinal)))
        {
            var excluded = DatabaseDigest.ExcludedByOperation.GetValueOrDefault(op.OperationId);
            var index = 0;
            foreach (var bad in BadRequests.For(op, EvidenceScale.Full))
            {
                // The quick run sends every request as admin (the role that gets past authorization everywhere) and
                // a fixed third of them for the other roles, which mostly stop at 401/403; the full run sends all.
                if (!EvidenceScale.Full && role != "admin" && !bridgeKey && index++ % 3 != 0) { bad.Content?.Dispose(); continue; }
                var before = excluded is null ? baseline : DatabaseDigest.Compute(db, excluded);
                using var request = new HttpRequestMessage(new HttpMethod(op.Method), bad.Path) { Content = bad.Content };
                HttpResponseMessage response;
                try
                {
                    response = await client.SendAsync(request);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("null characters"))
                {
                    // The in-process test client refuses to send a NUL in the path; Kestrel answers such a request
                    // line with 400 before the application sees it.
                    skipped++;
                    continue;
                }
                using var _ = response;
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                sent++;

                if (status >= 500)
                    failures.Add($"{status} for {role} {op} {bad}\n    {Excerpt(body)}");
                if (status is >= 400 and < 500 && DatabaseDigest.Compute(db, excluded) != before)
                    failures.Add($"{status} for {role} {op} {bad} changed the database:\n{DatabaseDigest.Difference(baselineDump, DatabaseDigest.Dump(db))}");
                if (status < 400 || DatabaseDigest.Compute(db) != baseline)
                {
                    // An accepted request may change things, and may even end this role's session (logout): start over from here.
                    // Signing in again writes a user and a session, so the new baseline is taken after it.
                    if (role != "anonymous" && !bridgeKey && (await client.GetAsync("/api/auth/me")).StatusCode != HttpStatusCode.OK)
                        client = await ClientForAsync(role);
                    baseline = DatabaseDigest.Compute(db);
                    baselineDump = DatabaseDigest.Dump(db);
                }
            }
        }

        TestContext.Out.WriteLine($"{role}: {sent} requests over {_operations.Count} operations in {watch.Elapsed.TotalSeconds:F1} s ({skipped} unsendable in-process); statuses "
            + string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.That(failures, Is.Empty, $"{failures.Count} failures; the first ones:\n" + string.Join("\n", failures.Take(25)));
    }

    // Each role signs in as a user of its own, never the seeded admin (id 1): the sweep's plausible id is 1, so the
    // admin sweep may well reset that account's password or deactivate it, and must still be able to sign in again.
    private async Task<HttpClient> ClientForAsync(string role)
    {
        if (role == "anonymous") return _app.CreateClient();
        if (!role.StartsWith("chat_", StringComparison.Ordinal)) return await _app.CreateClientForRoleAsync(role);
        var admin = await _app.CreateClientForRoleAsync("admin");
        var key = (await admin.GetFromJsonAsync<JsonElement>($"/api/config/{role}?reveal=true")).GetProperty("value").GetString();
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static string Excerpt(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
