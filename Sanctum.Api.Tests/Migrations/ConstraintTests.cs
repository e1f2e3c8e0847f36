using Sanctum.Migrations;

namespace Sanctum.Api.Tests.Migrations;

/// <summary>Every foreign key and CHECK of the schema refuses a row that breaks it.</summary>
public class ConstraintTests
{
    private MigrationHarness _db = null!;

    [OneTimeSetUp]
    public void MigrateOnce()
    {
        _db = new MigrationHarness(new SeedSettings { BcryptWorkFactor = 4 });
        _db.UpToLatest();
        using var c = _db.Open();
        c.Execute("""
            UPDATE tools SET module_scope = 'agent' WHERE id = 'broca';
            INSERT INTO tool_instances (tool_id, agent_id, name) VALUES ('broca', 'athena', 'first');
            INSERT INTO web_chat_sessions (id, uid) VALUES ('session_ok', '0123456789abcdef');
            INSERT INTO web_chat_messages (session_id, message) VALUES ('session_ok', 'hi');
            """);
    }

    [OneTimeTearDown]
    public void Dispose() => _db.Dispose();

    // Each statement breaks exactly one foreign key.
    [TestCase("INSERT INTO user_sessions (id, user_id, session_token, expires_at) VALUES ('x', 999, 't', '2030-01-01T00:00:00Z')", TestName = "FK user_sessions.user_id")]
    [TestCase("INSERT INTO agent_configs (agent_id, config_key) VALUES ('nobody', 'k')", TestName = "FK agent_configs.agent_id")]
    [TestCase("UPDATE agents SET created_by = 999 WHERE id = 'athena'", TestName = "FK agents.created_by")]
    [TestCase("UPDATE tools SET created_by = 999 WHERE id = 'broca'", TestName = "FK tools.created_by")]
    [TestCase("INSERT INTO tool_instances (tool_id) VALUES ('no-such-tool')", TestName = "FK tool_instances.tool_id")]
    [TestCase("INSERT INTO tool_instances (tool_id, agent_id) VALUES ('cron-scheduler', 'nobody')", TestName = "FK tool_instances.agent_id")]
    [TestCase("INSERT INTO tool_instances (tool_id, created_by) VALUES ('cron-scheduler', 999)", TestName = "FK tool_instances.created_by")]
    [TestCase("INSERT INTO plugins (tool_id, name) VALUES ('no-such-tool', 'p')", TestName = "FK plugins.tool_id")]
    [TestCase("INSERT INTO plugins (tool_id, name, created_by) VALUES ('broca', 'p', 999)", TestName = "FK plugins.created_by")]
    [TestCase("INSERT INTO configurations (key, scope, created_by) VALUES ('k', 'system', 999)", TestName = "FK configurations.created_by")]
    [TestCase("INSERT INTO web_chat_sessions (id, uid, user_id) VALUES ('session_a', 'aaaaaaaaaaaaaaaa', 999)", TestName = "FK web_chat_sessions.user_id")]
    [TestCase("INSERT INTO web_chat_sessions (id, uid, agent_id) VALUES ('session_b', 'bbbbbbbbbbbbbbbb', 'nobody')", TestName = "FK web_chat_sessions.agent_id")]
    [TestCase("INSERT INTO web_chat_messages (session_id, message) VALUES ('session_missing', 'hi')", TestName = "FK web_chat_messages.session_id")]
    [TestCase("INSERT INTO web_chat_messages (session_id, message, user_id) VALUES ('session_ok', 'hi', 999)", TestName = "FK web_chat_messages.user_id")]
    [TestCase("INSERT INTO web_chat_responses (session_id, response) VALUES ('session_missing', 'r')", TestName = "FK web_chat_responses.session_id")]
    [TestCase("INSERT INTO web_chat_responses (session_id, message_id, response) VALUES ('session_ok', 999, 'r')", TestName = "FK web_chat_responses.message_id")]
    [TestCase("DELETE FROM agents WHERE id = 'athena'", TestName = "FK parent agents cannot vanish under tool_instances")]
    public void ForeignKeyIsEnforced(string sql) => AssertRefused(sql, "FOREIGN KEY constraint failed");

    // Each statement breaks exactly one CHECK (or NOT NULL/UNIQUE rule of the contract).
    [TestCase("UPDATE tools SET status = 'Broken' WHERE id = 'broca'", TestName = "CHECK tools.status")]
    [TestCase("UPDATE tools SET is_enabled = 2 WHERE id = 'broca'", TestName = "CHECK tools.is_enabled")]
    [TestCase("UPDATE tools SET module_scope = 'planet' WHERE id = 'broca'", TestName = "CHECK tools.module_scope")]
    [TestCase("UPDATE tools SET config_schema = '{not json' WHERE id = 'broca'", TestName = "CHECK tools.config_schema json")]
    [TestCase("UPDATE agents SET status = 'Sleepy' WHERE id = 'athena'", TestName = "CHECK agents.status")]
    [TestCase("UPDATE agents SET is_active = -1 WHERE id = 'athena'", TestName = "CHECK agents.is_active")]
    [TestCase("UPDATE agents SET visible_to_roles = '[admin' WHERE id = 'athena'", TestName = "CHECK agents.visible_to_roles json")]
    [TestCase("UPDATE agents SET visible_to_users = 'x' WHERE id = 'athena'", TestName = "CHECK agents.visible_to_users json")]
    [TestCase("UPDATE agents SET config = '{' WHERE id = 'athena'", TestName = "CHECK agents.config json")]
    [TestCase("UPDATE users SET role = 'root' WHERE username = 'admin'", TestName = "CHECK users.role")]
    [TestCase("UPDATE users SET status = 'banned' WHERE username = 'admin'", TestName = "CHECK users.status")]
    [TestCase("UPDATE users SET must_change_password = 5 WHERE username = 'admin'", TestName = "CHECK users.must_change_password")]
    [TestCase("UPDATE users SET permissions = 'all' WHERE username = 'admin'", TestName = "CHECK users.permissions json")]
    [TestCase("INSERT INTO agent_configs (agent_id, config_key, config_type) VALUES ('athena', 'k', 'float')", TestName = "CHECK agent_configs.config_type")]
    [TestCase("INSERT INTO system_config (config_key, config_type) VALUES ('k', 'date')", TestName = "CHECK system_config.config_type")]
    [TestCase("INSERT INTO system_config (config_key, is_encrypted) VALUES ('k2', 3)", TestName = "CHECK system_config.is_encrypted")]
    [TestCase("INSERT INTO env_vars (var_name) VALUES ('1BAD')", TestName = "CHECK env_vars.var_name digit first")]
    [TestCase("INSERT INTO env_vars (var_name) VALUES ('BAD-NAME')", TestName = "CHECK env_vars.var_name character")]
    [TestCase("INSERT INTO tool_instances (tool_id, status) VALUES ('cron-scheduler', 'Lost')", TestName = "CHECK tool_instances.status")]
    [TestCase("INSERT INTO tool_instances (tool_id, config) VALUES ('cron-scheduler', '{x')", TestName = "CHECK tool_instances.config json")]
    [TestCase("INSERT INTO plugins (tool_id, name, status) VALUES ('broca', 'p', 'Running')", TestName = "CHECK plugins.status")]
    [TestCase("INSERT INTO plugins (tool_id, name, dependencies) VALUES ('broca', 'p', '{\"a\":1}')", TestName = "CHECK plugins.dependencies array")]
    [TestCase("INSERT INTO configurations (key, scope) VALUES ('k', 'galaxy')", TestName = "CHECK configurations.scope")]
    [TestCase("INSERT INTO configurations (key, scope, scope_id) VALUES ('k', 'system', 'x')", TestName = "CHECK configurations system has no scope_id")]
    [TestCase("INSERT INTO configurations (key, scope) VALUES ('k', 'agent')", TestName = "CHECK configurations agent needs scope_id")]
    [TestCase("INSERT INTO configurations (key, scope, type) VALUES ('k', 'system', 'list')", TestName = "CHECK configurations.type")]
    [TestCase("INSERT INTO web_chat_sessions (id, uid, metadata) VALUES ('session_c', 'cccccccccccccccc', 'nope')", TestName = "CHECK web_chat_sessions.metadata json")]
    [TestCase("UPDATE web_chat_messages SET delivery_state = 'lost'", TestName = "CHECK web_chat_messages.delivery_state")]
    [TestCase("UPDATE web_chat_messages SET delivery_attempts = -1", TestName = "CHECK web_chat_messages.delivery_attempts")]
    public void CheckIsEnforced(string sql) => AssertRefused(sql, "CHECK constraint failed");

    [TestCase("INSERT INTO tool_instances (tool_id, agent_id, name) VALUES ('broca', 'athena', 'second')", TestName = "agent-scoped tool: one instance per agent (insert)")]
    [TestCase("INSERT INTO configurations (key, scope) VALUES ('dup', 'system'); INSERT INTO configurations (key, scope) VALUES ('dup', 'system')", TestName = "configurations: one system key even with NULL scope_id")]
    [TestCase("INSERT INTO plugins (tool_id, name) VALUES ('broca', 'same'); INSERT INTO plugins (tool_id, name) VALUES ('broca', 'same')", TestName = "plugins: unique name per tool")]
    [TestCase("INSERT INTO agent_configs (agent_id, config_key) VALUES ('athena', 'k'); INSERT INTO agent_configs (agent_id, config_key) VALUES ('athena', 'k')", TestName = "agent_configs: unique key per agent")]
    [TestCase("UPDATE agents SET letta_uid = 'same'; ", TestName = "agents: letta_uid unique")]
    public void UniqueRuleIsEnforced(string sql) => AssertRefused(sql, "UNIQUE constraint failed");

    [Test]
    public void AGlobalToolMayHaveSeveralInstancesForOneAgent()
    {
        using var c = _db.Open();
        using var tx = c.BeginTransaction();
        c.Execute("INSERT INTO tool_instances (tool_id, agent_id, name) VALUES ('cron-scheduler', 'athena', 'a'), ('cron-scheduler', 'athena', 'b')", transaction: tx);
        Assert.That(c.ExecuteScalar<long>("SELECT COUNT(*) FROM tool_instances WHERE tool_id = 'cron-scheduler'", transaction: tx), Is.EqualTo(2));
        tx.Rollback();
    }

    private void AssertRefused(string sql, string expected)
    {
        using var c = _db.Open();
        using var tx = c.BeginTransaction();
        var error = Assert.Throws<SqliteException>(() => c.Execute(sql, transaction: tx));
        Assert.That(error!.Message, Does.Contain(expected));
        tx.Rollback();
    }
}
