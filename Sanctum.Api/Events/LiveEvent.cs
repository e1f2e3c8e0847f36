using System.Text;
using System.Text.Json;

namespace Sanctum.Api.Events;

/// <summary>
/// One event as it travels: its id (unique across instances: the raising instance's tag and counter), topic, name,
/// JSON data and audience. <see cref="Frame"/> is the text/event-stream frame, encoded once for every subscriber.
/// </summary>
public sealed class LiveEvent
{
    public required string Id { get; init; }
    public required string Topic { get; init; }
    public required string Name { get; init; }
    /// <summary>The data as JSON text.</summary>
    public required string Data { get; init; }
    public EventAudience Audience { get; init; } = EventAudience.Everyone;
    public DateTimeOffset At { get; init; }

    /// <summary>This instance's position of the event in its history; set when it is delivered here.</summary>
    internal long Sequence { get; set; }

    private byte[]? _frame;

    public ReadOnlyMemory<byte> Frame => _frame ??= Encoding.UTF8.GetBytes($"id: {Id}\nevent: {Name}\ndata: {Data}\n\n");

    /// <summary>The comment line that keeps idle streams open through proxies.</summary>
    internal static readonly LiveEvent Heartbeat = new() { Id = "", Topic = "", Name = "", Data = "" };
    internal static readonly ReadOnlyMemory<byte> HeartbeatFrame = ": heartbeat\n\n"u8.ToArray();

    /// <summary>Told to a stream when what it missed is no longer kept: reload, then go on from here.</summary>
    internal static byte[] ResetFrame(string? lastId) =>
        Encoding.UTF8.GetBytes($"{(lastId is null ? "" : $"id: {lastId}\n")}event: reset\ndata: {{\"reason\":\"The events since your last one are no longer kept: reload your data.\"}}\n\n");

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
