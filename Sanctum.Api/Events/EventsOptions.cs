namespace Sanctum.Api.Events;

/// <summary>Sanctum:Events: what the live event stream keeps and allows.</summary>
public sealed class EventsOptions
{
    public const string Section = "Sanctum:Events";

    /// <summary>Events kept for Last-Event-ID replay: at most this many...</summary>
    public int HistorySize { get; set; } = 10_000;
    /// <summary>...and none older than this.</summary>
    public TimeSpan HistoryAge { get; set; } = TimeSpan.FromMinutes(10);
    /// <summary>Events waiting for one stream's reader; a stream whose buffer is full is dropped (it reconnects and resumes).</summary>
    public int BufferSize { get; set; } = 256;
    public int MaxStreamsPerUser { get; set; } = 16;
    public int MaxStreams { get; set; } = 2_000;
    /// <summary>A comment line this often keeps proxies from closing an idle stream.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>How often open streams' sessions and tokens are checked again (a revoked one ends its streams).</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromSeconds(2);
}
