using System.Data.Common;
using Dapper;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Audit;

/// <summary>
/// One security or administrative event: <c>Action</c> is dotted and stable (<c>auth.login.succeeded</c>,
/// <c>user.updated</c>, <c>backup.created</c>, <c>job.run</c>, <c>status.changed</c>); <c>Details</c> names what changed
/// (field names, counts), never a secret value or a hash.
/// </summary>
public sealed record AuditEvent(
    string Action, string? TargetType = null, string? TargetId = null, object? Details = null, string Outcome = "ok")
{
    /// <summary>
    /// Who acted when no signed-in user is: the username a sign-in names, or <c>cli:&lt;os user&gt;</c> for the admin
    /// command line (see <see cref="AuditLog.CliActor"/>). A signed-in user always wins.
    /// </summary>
    public string? Actor { get; init; }

    /// <summary>The client address when the event is recorded outside its request (an aggregate written later).</summary>
    public string? Address { get; init; }
}

/// <summary>
/// The one place every feature reports its events to. Each event becomes one structured log line and one row of the
/// append-only, hash-chained <c>audit_log</c> (<see cref="AuditChain"/>).
/// <para>
/// <see cref="Record(AuditEvent, HttpContext?)"/> never touches the database on the caller's thread: callers may hold
/// an open write transaction on another connection, and waiting for SQLite's single write lock there would deadlock
/// with themselves. The event is queued and <see cref="AuditWriter"/> appends everything queued in one short
/// transaction per batch, so a burst of events costs the write lock once. To make an event commit or roll back with
/// the change it describes, use <see cref="RecordAsync"/> with the caller's connection and transaction, then
/// <see cref="Committed"/> after the commit.
/// </para>
/// </summary>
public sealed partial class AuditLog(ILogger<AuditLog> logger, TimeProvider clock, AuditChain chain)
{
    private static readonly JsonSerializerOptions DetailsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly Channel<AuditEntry?> _queue = Channel.CreateUnbounded<AuditEntry?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private long _queued, _written;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Records an event; the actor and client address come from <paramref name="http"/> when there is one.</summary>
    public void Record(AuditEvent e, HttpContext? http = null)
    {
        var entry = Entry(e, http);
        lock (_gate)
        {
            if (_queue.Writer.TryWrite(entry)) _queued++;
            else LogNotStored(logger, e.Action);
        }
    }

    /// <summary>
    /// Records an event inside the caller's write transaction: it is stored if and only if that commits. On SQLite the
    /// row extends the chain right there (the transaction holds the one write lock). On PostgreSQL it goes into
    /// <c>audit_unsealed</c>, which takes no lock and reads nothing, so concurrent writers neither wait for each other
    /// nor conflict on the chain's tail; the audit writer then links it into the chain (<see cref="AuditWriter"/>), in
    /// order, under the chain's lock. Call <see cref="Committed"/> after the commit so that happens at once.
    /// </summary>
    public async Task RecordAsync(AuditEvent e, HttpContext? http, System.Data.IDbConnection db, System.Data.IDbTransaction tx)
    {
        var entry = Entry(e, http);
        if (SqlDialect.Of(db).Engine == DatabaseEngine.Sqlite) await chain.AppendAsync(db, tx, [entry]);
        else await db.ExecuteAsync(UnsealedInsert, UnsealedArgs(entry, new Dapper.DynamicParameters()), tx);
    }

    /// <summary>
    /// On PostgreSQL, the statement that records the event inside the caller's transaction, to send as one more statement
    /// of the caller's own command (its arguments go into <paramref name="args"/>, named <c>audit_*</c>): the write and its
    /// audit row in one round trip. On SQLite null: use <see cref="RecordAsync"/>, which reads the chain's tail first.
    /// </summary>
    public string? AppendToCommand(AuditEvent e, HttpContext? http, System.Data.IDbConnection db, Dapper.DynamicParameters args)
    {
        if (SqlDialect.Of(db).Engine == DatabaseEngine.Sqlite) return null;
        UnsealedArgs(Entry(e, http), args);
        return UnsealedInsert;
    }

    // Parameters named audit_*, so the insert can share a command with the caller's own statements.
    private const string UnsealedInsert = """
        INSERT INTO audit_unsealed (at, actor, actor_id, address, action, target_type, target_id, outcome, details)
        VALUES (@audit_at, @audit_actor, @audit_actor_id, @audit_address, @audit_action, @audit_target_type, @audit_target_id, @audit_outcome, @audit_details)
        """;

    private static Dapper.DynamicParameters UnsealedArgs(AuditEntry entry, Dapper.DynamicParameters args)
    {
        args.AddDynamicParams(new
        {
            audit_at = entry.At, audit_actor = entry.Actor, audit_actor_id = entry.ActorId, audit_address = entry.Address, audit_action = entry.Action,
            audit_target_type = entry.TargetType, audit_target_id = entry.TargetId, audit_outcome = entry.Outcome, audit_details = entry.Details,
        });
        return args;
    }

    /// <summary>
    /// After the commit of a transaction that used <see cref="RecordAsync"/>: on PostgreSQL the writer seals its rows now
    /// (and <see cref="FlushAsync"/> waits for that); rows whose process died before are sealed by the writer's sweep.
    /// </summary>
    public void Committed(DbConnection db)
    {
        if (SqlDialect.Of(db).Engine != DatabaseEngine.Sqlite) Committed();
    }

    /// <summary><see cref="Committed(DbConnection)"/> where the connection is gone (a committed transaction forgets it); on SQLite it only wakes the writer.</summary>
    public void Committed()
    {
        lock (_gate)
        {
            if (_queue.Writer.TryWrite(null)) _queued++;
        }
    }

    /// <summary>
    /// Records an event at once in its own transaction on <paramref name="db"/>: for the admin command line, whose process
    /// runs no background writer and exits right after.
    /// </summary>
    public async Task RecordNowAsync(AuditEvent e, DbConnection db)
    {
        await using var tx = await AuditChain.BeginAppendAsync(db);
        await chain.AppendAsync(db, tx, [Entry(e, null)]);
        await tx.CommitAsync();
    }

    /// <summary>The actor of the admin command line: <c>cli:</c> and the operating system's user name.</summary>
    public static string CliActor => "cli:" + Environment.UserName;

    /// <summary>How the log line names an actor: the user, or "system" for a check, a job or start-up.</summary>
    public const string SystemActor = "system";

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) until every event queued before this call is stored, and on PostgreSQL
    /// every row committed to <c>audit_unsealed</c> before it is sealed into the chain.
    /// </summary>
    public async Task FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_queue.Writer.TryWrite(null)) _queued++;
        }
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task progress;
            lock (_gate)
            {
                if (_written >= _queued) return;
                progress = _progress.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return;
            try { await progress.WaitAsync(left, cancellationToken); }
            catch (TimeoutException) { return; }
        }
    }

    internal ChannelReader<AuditEntry?> Queue => _queue.Reader;

    internal void Complete() => _queue.Writer.TryComplete();

    internal void Stored(int count)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            _written += count;
            done = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    private AuditEntry Entry(AuditEvent e, HttpContext? http)
    {
        var user = http?.User;
        var actor = user?.FindFirstValue(ClaimTypes.Name) ?? e.Actor;
        long? actorId = user?.FindFirstValue(ClaimTypes.NameIdentifier) is { } id && long.TryParse(id, out var n) ? n : null;
        var address = http is null ? e.Address : Caller.Address(http);
        var details = e.Details is null ? null : JsonSerializer.Serialize(e.Details, DetailsJson);
        LogEvent(logger, e.Action, e.Outcome, actor ?? SystemActor, address ?? "-", e.TargetType ?? "-", e.TargetId ?? "-", details ?? "{}");
        return new AuditEntry
        {
            At = Timestamp.Now(clock), Actor = actor, ActorId = actorId, Address = address, Action = e.Action,
            TargetType = e.TargetType, TargetId = e.TargetId, Outcome = e.Outcome, Details = details,
        };
    }

    [LoggerMessage(EventId = 9000, Level = LogLevel.Information,
        Message = "Audit {Action} {Outcome} by {Actor} from {Address} on {TargetType} {TargetId} {Details}")]
    private static partial void LogEvent(ILogger logger, string action, string outcome, string actor, string address,
        string targetType, string targetId, string details);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Audit {Action} could not be queued: the writer has stopped")]
    private static partial void LogNotStored(ILogger logger, string action);
}
