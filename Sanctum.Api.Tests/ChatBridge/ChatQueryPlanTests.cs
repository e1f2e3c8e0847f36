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

    private static List<(long Id, long Parent, long NotUsed, string Detail)> Plan(string sql)
    {
        using var db = _app.OpenDatabase();
        return db.Query<(long Id, long Parent, long NotUsed, string Detail)>("EXPLAIN QUERY PLAN " + sql, Arguments).ToList();
    }

    private static bool ReadsAChatTable(string detail) =>
        detail.StartsWith("SCAN web_chat", StringComparison.Ordinal) || detail.StartsWith("SEARCH web_chat", StringComparison.Ordinal)
        || detail.StartsWith("SCAN chat_", StringComparison.Ordinal) || detail.StartsWith("SEARCH chat_", StringComparison.Ordinal);

    /// <summary>
    /// The plan reads the chat tables through <paramref name="indexes"/> only: no table scan, and no sort of a table's
    /// rows (a sort of a capped subquery's few rows, "SCAN (subquery-N)", is fine).
    /// </summary>
    private static void AssertIndexed(string sql, params string[] indexes)
    {
        var rows = Plan(sql);
        var plan = string.Join("\n", rows.Select(row => row.Detail));
        TestContext.Out.WriteLine(plan);
        foreach (var row in rows)
        {
            var scan = ReadsAChatTable(row.Detail) && row.Detail.StartsWith("SCAN", StringComparison.Ordinal) && !row.Detail.Contains(" USING ", StringComparison.Ordinal);
            Assert.That(scan, Is.False, $"a table scan in:\n{plan}\n{sql}");
            if (row.Detail.StartsWith("USE TEMP B-TREE", StringComparison.Ordinal))
                Assert.That(rows.Any(other => other.Parent == row.Parent && ReadsAChatTable(other.Detail)), Is.False, $"a sort of table rows in:\n{plan}\n{sql}");
        }
        foreach (var index in indexes) Assert.That(plan, Does.Match($@"\b{index}\b"), $"{index} is not used:\n{plan}\n{sql}");
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void AnInboxPollCountsAndLeasesThroughTheWaitingAndLeaseIndexes(bool byAgent, bool bySince)
    {
        string[] indexes = byAgent
            ? ["ix_web_chat_messages_waiting_agent", "ix_web_chat_messages_lease_agent"]
            : ["ix_web_chat_messages_waiting", "ix_web_chat_messages_lease"];
        AssertIndexed(ChatDelivery.CountSql(byAgent, bySince), indexes);
        AssertIndexed(ChatDelivery.HandOutSql(byAgent, bySince), indexes);
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
        AssertIndexed(RelayPresence.RecordSql);
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
