namespace Sanctum.Api.Broca;

/// <summary>Sanctum:Broca: how the panel touches each agent's Broca.</summary>
public sealed class BrocaOptions
{
    public const string Section = "Sanctum:Broca";

    /// <summary>How long a write waits for Broca's database lock before answering 503 (Broca keeps running meanwhile).</summary>
    public int BusyTimeoutMs { get; set; } = 1000;

    /// <summary>Queue items changed per write transaction by flush and retry-failed, so Broca's lock is held briefly.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>The most lines and bytes a log tail returns.</summary>
    public int MaxLogLines { get; set; } = 2000;
    public int MaxLogBytes { get; set; } = 1 << 20;
}
