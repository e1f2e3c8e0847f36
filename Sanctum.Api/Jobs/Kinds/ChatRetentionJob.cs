using System.Text.Json;
using Dapper;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Jobs.Kinds;

/// <summary><c>chat-retention</c>: deletes web chat messages and replies older than <c>days</c>.</summary>
public sealed class ChatRetentionJob(Database database, TimeProvider clock) : IJobKind
{
    public const int MaxDays = 3650;

    public string Kind => "chat-retention";

    public string Description => "Delete web chat messages and replies older than params.days (1-3650)";

    public IReadOnlyList<JobParam> Params => [new("days", "Delete chat older than (days)", 1, MaxDays, null)];

    public void Validate(JsonElement parameters, Errors errors)
    {
        JobParams.OnlyKnown(parameters, errors, "days");
        JobParams.Int(parameters, "days", 1, MaxDays, fallback: null, errors);
    }

    public Task<JobResult> RunAsync(JobRunContext context, CancellationToken cancellationToken)
    {
        if (JobParams.Int(context.Parameters, "days", 1, MaxDays, fallback: null) is not { } days)
            return Task.FromResult(JobResult.Failed("params.days must be a whole number from 1 to 3650."));
        var cutoff = Timestamp.From(clock.GetUtcNow().AddDays(-days));
        using var db = database.Open();
        using var tx = db.BeginTransaction();
        var replies = db.Execute("DELETE FROM web_chat_responses WHERE timestamp < @cutoff", new { cutoff }, tx);
        // A message a newer reply still points at stays until that reply goes.
        var messages = db.Execute("""
            DELETE FROM web_chat_messages WHERE timestamp < @cutoff
              AND NOT EXISTS (SELECT 1 FROM web_chat_responses r WHERE r.message_id = web_chat_messages.id)
            """, new { cutoff }, tx);
        tx.Commit();
        return Task.FromResult(JobResult.Ok($"Deleted {messages} message(s) and {replies} reply(ies) older than {days} days."));
    }
}
