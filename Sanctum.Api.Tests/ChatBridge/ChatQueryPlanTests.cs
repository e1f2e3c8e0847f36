using Sanctum.Api.Agents;
using Sanctum.Api.Chat;
using Sanctum.Api.ChatBridge;

namespace Sanctum.Api.Tests.ChatBridge;

/// <summary>
/// Every query of the bridge, the chat history and the delivery leases is an index lookup, whatever the number of rows:
/// SQLite's plan (EXPLAIN QUERY PLAN) on a database with the real schema and indexes, without statistics, so the
/// planner assumes big tables. The timings at 1,000,000 messages are bench/chat-bench.sh's.
/// </summary>
public class ChatQueryPlanTests
{
    private static SanctumApplication _app = null!;

    [OneTimeSetUp]
    public static void Start()
    {
        TestEngine.RequireSqlite("these read SQLite's EXPLAIN QUERY PLAN");
        _app = new SanctumApplication();
        _app.ArrangeMessages("session_plan", 3, agentId: "athena");
    }

    [OneTimeTearDown]
    public static void Stop() => _app?.Dispose();

    private static readonly object Arguments = new
    {
        agentId = "athena", since = "2026-01-01T00:00:00Z", now = "2026-01-01T00:00:00Z", maxAttempts = 5, cap = 1000, limit = 50, offset = 0,
        leaseUntil = "2026-01-01T00:02:00Z", sessionId = "session_plan", messageId = 1L, response = "r", after = "2026-01-01T00:00:00Z",
        userId = 1L, take = 51, id = "session_plan", beforeMessage = long.MaxValue, beforeResponse = long.MaxValue, afterId = 0L, max = 500,
        scope = "athena", windowStart = "2026-01-01T00:00:00Z", cutoff = "2026-01-01T00:00:00Z", ids = new[] { "session_plan", "session_x" },
    };

    private static string Plan(string sql)
    {
        using var db = _app.OpenDatabase();
        return string.Join("\n", db.Query<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql, Arguments).Select(row => row.Detail));
    }

    /// <summary>The plan reads the chat tables through <paramref name="indexes"/> only: no table scan, no sort of a whole table.</summary>
    private static void AssertIndexed(string sql, params string[] indexes)
    {
        var plan = Plan(sql);
        TestContext.Out.WriteLine(plan);
        foreach (var line in plan.Split('\n'))
        {
            // "SCAN (subquery-1)" reads a capped subquery's few rows; a chat table read without an index is a scan.
            var scan = (line.StartsWith("SCAN web_chat", StringComparison.Ordinal) || line.StartsWith("SCAN chat_", StringComparison.Ordinal))
                && !line.Contains(" USING ", StringComparison.Ordinal);
            Assert.That(scan, Is.False, $"a table scan in:\n{plan}\n{sql}");
            Assert.That(line, Does.Not.StartWith("USE TEMP B-TREE"), $"a sort in:\n{plan}\n{sql}");
        }
        foreach (var index in indexes) Assert.That(plan, Does.Contain(index), $"{index} is not used:\n{plan}\n{sql}");
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void AnInboxPollCountsAndLeasesThroughTheOpenMessagesIndex(bool byAgent, bool bySince)
    {
        var index = byAgent ? "ix_web_chat_messages_open_agent" : "ix_web_chat_messages_open";
        AssertIndexed(ChatDelivery.CountSql(byAgent, bySince), index);
        AssertIndexed(ChatDelivery.HandOutSql(byAgent, bySince), index);
    }

    [Test]
    public void LeaseBookkeepingIsIndexed()
    {
        AssertIndexed(ChatDelivery.GiveUpSql, "ix_web_chat_messages_lease");
        AssertIndexed(ChatDelivery.OldestLeasedSql, "ix_web_chat_messages_session");
        AssertIndexed(ChatDelivery.AnswerSessionSql, "ix_web_chat_messages_session");
        AssertIndexed(ChatDelivery.AnswerMessageSql, "INTEGER PRIMARY KEY");
        AssertIndexed(ChatDelivery.SameReplySql, "ix_web_chat_responses_session_id");
        AssertIndexed(ChatDelivery.SameReplyToMessageSql, "ix_web_chat_responses_message_id");
        AssertIndexed(RelayPresence.RecordSql, "");
        AssertIndexed(BrocaRelay.SessionUidsSql(Sanctum.Api.Data.SqlDialect.Sqlite), "sqlite_autoindex_web_chat_sessions_1");
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void ResponsesAreReadThroughTheSessionIndex(bool bySince, bool byAfterId) =>
        AssertIndexed(ChatMessages.ResponsesSql(bySince, byAfterId), "ix_web_chat_responses_session_id");

    [TestCase(false)]
    [TestCase(true)]
    public void TheAdminSessionsListPagesThroughTheLastActiveIndex(bool active)
    {
        AssertIndexed(BridgeAdmin.SessionsPageSql(active), "ix_web_chat_sessions_last_active", "ix_web_chat_messages_session", "ix_web_chat_responses_session_id");
        AssertIndexed(BridgeAdmin.SessionsCountSql(active));
    }

    [Test]
    public void CleanupFindsIdleSessionsThroughTheLastActiveIndex()
    {
        foreach (var sql in BridgeAdmin.CleanupSql) AssertIndexed(sql, "ix_web_chat_sessions_last_active");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ChatHistoryIsIndexLookups(bool byAgent)
    {
        AssertIndexed(ChatHistoryApi.SessionsSql(byAgent), "ix_web_chat_sessions_user_id", "ix_web_chat_messages_session");
        AssertIndexed(ChatHistoryApi.SessionSql, "sqlite_autoindex_web_chat_sessions_1");
        AssertIndexed(ChatHistoryApi.MessagesPageSql, "ix_web_chat_messages_session");
        AssertIndexed(ChatHistoryApi.ResponsesPageSql, "ix_web_chat_responses_session_id");
    }

    [Test]
    public void PostingAMessageIsIndexLookups()
    {
        AssertIndexed(ChatMessages.SessionOwnerSql, "sqlite_autoindex_web_chat_sessions_1");
        AssertIndexed(ChatMessages.AdoptAgentSql, "ix_web_chat_messages_session");
    }
}
