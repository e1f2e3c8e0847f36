using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>
/// Item 2, the role matrix with a hidden agent and two ordinary users: the agent "vault" is visible to user A only.
/// Every read that touches agent-, tool-, instance- or user-scoped data must show it (and A's own settings) to A and
/// admins, and to nobody else, not even by name.
/// </summary>
public class HiddenAgentsTests
{
    private SanctumApplication _app = null!;
    private HttpClient _admin = null!, _viewer = null!, _userA = null!, _userB = null!;
    private long _userAId, _instanceId;

    [OneTimeSetUp]
    public async Task Arrange()
    {
        _app = new SanctumApplication();
        _admin = await _app.CreateAdminClientAsync();
        _viewer = await _app.CreateClientForRoleAsync("viewer");
        _userA = await _app.CreateClientForRoleAsync("user", "user_a_vault");
        _userB = await _app.CreateClientForRoleAsync("user", "user_b_vault");
        using var db = _app.OpenDatabase();
        _userAId = db.ExecuteScalar<long>("SELECT id FROM users WHERE username = 'user_a_vault'");
        db.Execute("""
            INSERT INTO agents (id, name, display_name, description, status, visible_to_users) VALUES ('vault', 'Vault', 'Vault Prime', 'hidden', 'Degraded', @users);
            INSERT INTO tools (id, name, description, emoji, category, status, route_path) VALUES ('vault-tool', 'Vault tool', 'd', '🔒', 'vault', 'Degraded', '/vault-tool');
            INSERT INTO tools (id, name, description, emoji, category, status, route_path, module_scope) VALUES ('shared-tool', 'Shared', 'd', '🔧', 'master', 'Healthy', '/shared-tool', 'agent');
            INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('vault_setting', 'x', 'string', 'agent', 'vault');
            INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('vault_tool_setting', 'x', 'string', 'tool', 'vault-tool');
            INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('a_private_setting', 'x', 'string', 'user', @userA);
            INSERT INTO status_history (at, kind, entity_id, old_status, new_status, source, reason) VALUES (@at, 'tool', 'vault-tool', 'Healthy', 'Degraded', 'manual', NULL);
            """, new { users = $"[{_userAId}]", userA = _userAId.ToString(), at = Sanctum.Api.Data.Timestamp.From(DateTimeOffset.UtcNow.AddMinutes(-5)) });
        _instanceId = db.ExecuteScalar<long>("""
            INSERT INTO tool_instances (tool_id, agent_id, name, config) VALUES ('shared-tool', 'vault', 'vault instance', '{"vault":true}') RETURNING id
            """);
        db.Execute("INSERT INTO configurations (key, value, type, scope, scope_id) VALUES ('vault_instance_setting', 'x', 'string', 'instance', @id)",
            new { id = _instanceId.ToString() });
    }

    [OneTimeTearDown]
    public void Stop() => _app.Dispose();

    private HttpClient Client(string who) => who switch { "admin" => _admin, "viewer" => _viewer, "userA" => _userA, _ => _userB };

    private static readonly string[] Callers = ["admin", "viewer", "userA", "userB"];

    private static bool Sees(string who) => who is "admin" or "userA";

    public static IEnumerable<TestCaseData> Reads() =>
        from url in new[]
        {
            "/api/agents", "/api/tools", "/api/tools/categories", "/api/tools?category=vault", "/api/tools/shared-tool/instances",
            "/api/configurations", "/api/configurations?scope=agent", "/api/configurations?scope=tool", "/api/configurations?scope=instance",
            "/api/status", "/api/status/history", "/api/status/availability",
        }
        from who in Callers
        select new TestCaseData(who, url).SetName($"{who} {(Sees(who) ? "sees" : "never sees")} the hidden agent in {url}");

    [TestCaseSource(nameof(Reads))]
    public async Task ListsShowTheHiddenAgentOnlyToThoseWhoMaySeeIt(string who, string url)
    {
        var response = await Client(who).GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        if (Sees(who)) Assert.That(text, Does.Contain("vault"));
        else Assert.That(text, Does.Not.Contain("vault"));
    }

    public static IEnumerable<TestCaseData> Singles() =>
        from url in new[]
        {
            "/api/agents/vault", "/api/tools/vault-tool", "/api/tools/vault-tool/instances", "/api/tools/shared-tool/instances/{instance}",
            "/api/configurations/agent/vault/vault_setting", "/api/configurations/tool/vault-tool/vault_tool_setting",
            "/api/configurations/instance/{instance}/vault_instance_setting",
            "/api/config/effective?agent=vault", "/api/config/effective?tool=vault-tool", "/api/config/effective?instance={instance}",
        }
        from who in Callers
        select new TestCaseData(who, url).SetName($"{who} gets {(Sees(who) ? "200" : "404")} for {url}");

    [TestCaseSource(nameof(Singles))]
    public async Task OneHiddenThingReadsAsAbsent(string who, string url)
    {
        var response = await Client(who).GetAsync(url.Replace("{instance}", _instanceId.ToString()));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(Sees(who) ? HttpStatusCode.OK : HttpStatusCode.NotFound), text);
    }

    [TestCase("admin", true)]
    [TestCase("userA", true)]
    [TestCase("userB", false)]
    [TestCase("viewer", false)]
    public async Task UserScopedConfigurationsAreReadableByTheirOwnerAndAdminsOnly(string who, bool sees)
    {
        var list = await Client(who).GetStringAsync("/api/configurations?scope=user");
        Assert.That(list.Contains("a_private_setting"), Is.EqualTo(sees), list);
        var one = await Client(who).GetAsync($"/api/configurations/user/{_userAId}/a_private_setting");
        Assert.That(one.StatusCode, Is.EqualTo(sees ? HttpStatusCode.OK : HttpStatusCode.NotFound));
    }
}
