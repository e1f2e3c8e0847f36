using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Npgsql;
using Sanctum.Api.Data;

namespace Sanctum.Api.Events;

/// <summary>
/// PostgreSQL: carries every event raised on any instance to the hub of every instance through
/// <c>NOTIFY sanctum_live_events</c>, the payload being the event itself. Each instance, the raising one included,
/// delivers what it hears on its LISTEN connection, and PostgreSQL delivers notifications in commit order to every
/// listener, so every instance's hub holds the same events in the same order (per topic and overall), and a stream
/// can resume on any instance. A lost LISTEN connection is a gap: the hub forgets its history and the streams
/// reconnect, are told to reload (reset), and go on. On SQLite this does nothing and the hub delivers in process.
/// </summary>
public sealed partial class PostgresEventRelay : BackgroundService, IEventTransport
{
    /// <summary>This feature's own channel (the data version may use another).</summary>
    public const string ChannelName = "sanctum_live_events";

    // NOTIFY payloads must stay under 8000 bytes.
    private const int MaxPayload = 7_900;

    private readonly Database _database;
    private readonly EventHub _hub;
    private readonly ILogger<PostgresEventRelay> _logger;
    private readonly Channel<LiveEvent> _outgoing = Channel.CreateUnbounded<LiveEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PostgresEventRelay(Database database, EventHub hub, ILogger<PostgresEventRelay> logger)
    {
        _database = database;
        _hub = hub;
        _logger = logger;
        if (!database.IsSqlite) hub.Transport = this;
        else _listening.TrySetResult();
    }

    /// <summary>Completes once this instance listens (at once on SQLite).</summary>
    public Task Listening => _listening.Task;

    public void Send(LiveEvent e) => _outgoing.Writer.TryWrite(e);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _database.IsSqlite ? Task.CompletedTask : Task.WhenAll(ListenAsync(stoppingToken), SendAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_database.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, n) =>
                {
                    if (n.Channel == ChannelName && Decode(n.Payload) is { } e) _hub.Deliver(e);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection)) await listen.ExecuteNonQueryAsync(stoppingToken);
                if (!first) _hub.Forget();
                first = false;
                _listening.TrySetResult();
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                LogListenFailed(_logger, e);
                _hub.Forget();
                try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }

    // Every notifying commit wakes every listening session of the database (each instance's listeners): the events
    // waiting to be sent go in one batch, which PostgreSQL runs as one implicit transaction, in order, with one commit.
    private const int MaxBatch = 64;

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        NpgsqlConnection? connection = null;
        var batch = new List<LiveEvent>(MaxBatch);
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _outgoing.Reader.TryRead(out var e)) batch.Add(e);
                while (batch.Count > 0)
                {
                    try
                    {
                        if (connection is null)
                        {
                            connection = new NpgsqlConnection(_database.ConnectionString);
                            await connection.OpenAsync(stoppingToken);
                        }
                        await using var notify = new NpgsqlBatch(connection);
                        foreach (var each in batch)
                        {
                            var command = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
                            command.Parameters.Add(new NpgsqlParameter { Value = ChannelName });
                            command.Parameters.Add(new NpgsqlParameter { Value = Encode(each) });
                            notify.BatchCommands.Add(command);
                        }
                        await notify.ExecuteNonQueryAsync(stoppingToken);
                        batch.Clear();
                    }
                    catch (Exception x) when (x is NpgsqlException or InvalidOperationException or System.IO.IOException)
                    {
                        LogSendFailed(_logger, x);
                        if (connection is not null) await connection.DisposeAsync();
                        connection = null;
                        await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    private sealed record Wire(string Id, string Topic, string Name, JsonElement Data, string? AgentId, long? UserId, bool AdminsOnly, DateTimeOffset At);

    private static readonly JsonSerializerOptions WireJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    internal static string Encode(LiveEvent e)
    {
        using var data = JsonDocument.Parse(e.Data);
        var text = JsonSerializer.Serialize(new Wire(e.Id, e.Topic, e.Name, data.RootElement, e.Audience.AgentId, e.Audience.UserId, e.Audience.AdminsOnly, e.At), WireJson);
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= MaxPayload) return text;
        using var small = JsonDocument.Parse("""{"too_large":true}""");
        return JsonSerializer.Serialize(new Wire(e.Id, e.Topic, e.Name, small.RootElement, e.Audience.AgentId, e.Audience.UserId, e.Audience.AdminsOnly, e.At), WireJson);
    }

    internal static LiveEvent? Decode(string payload)
    {
        try
        {
            var w = JsonSerializer.Deserialize<Wire>(payload, WireJson);
            return w is null ? null : new LiveEvent
            {
                Id = w.Id, Topic = w.Topic, Name = w.Name, Data = w.Data.GetRawText(), At = w.At,
                Audience = new EventAudience(w.AgentId, w.UserId, w.AdminsOnly),
            };
        }
        catch (JsonException) { return null; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The live events' LISTEN connection failed; reconnecting (open streams are told to reload).")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending a live event through NOTIFY failed; retrying.")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);
}
