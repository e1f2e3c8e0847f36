using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Status;

/// <summary>What <c>GET /api/status/system</c> answers: the host, this process, the data directory's disk, and the last hour.</summary>
public sealed record SystemFiguresReport(
    double? CpuPercent,
    [property: MaxLength(3)] IReadOnlyList<double>? LoadAverage,
    MemoryFigures Memory,
    ProcessFigures Process,
    DiskFigures Disk,
    long UptimeSeconds,
    long SampleIntervalSeconds,
    [property: MaxLength(SystemFigures.MaxHistory)] IReadOnlyList<SystemSample> History);

/// <summary>The host's memory (from /proc/meminfo on Linux; elsewhere what the runtime sees as available).</summary>
public sealed record MemoryFigures(long? TotalBytes, long? AvailableBytes, double? UsedPercent);

public sealed record ProcessFigures(
    long WorkingSetBytes, long GcHeapBytes, int Threads, int ThreadPoolThreads, long ThreadPoolQueueLength, int? OpenStreams);

/// <summary>The disk under the data directory; <c>low</c> when free space is below Sanctum:System:LowDiskBytes.</summary>
public sealed record DiskFigures([property: MaxLength(4096)] string Path, long FreeBytes, long TotalBytes, bool Low, long LowBelowBytes);

/// <summary>One sample of the in-memory history.</summary>
public sealed record SystemSample(string At, double? CpuPercent, double? MemoryUsedPercent, long WorkingSetBytes, long GcHeapBytes, long DiskFreeBytes);

/// <summary>
/// Samples the host and the process every Sanctum:System:SampleInterval (15 s) into a ring kept in memory for
/// Sanctum:System:HistoryLength (1 hour). Host CPU use is the share of non-idle time in /proc/stat between two readings
/// (on other systems, this process's CPU time over all cores).
/// </summary>
public sealed class SystemFigures(IOptions<SanctumOptions> options, Database database, StartTime started, TimeProvider clock) : BackgroundService
{
    public const int MaxHistory = 1440;

    private readonly SystemFiguresOptions _options = options.Value.System;
    private readonly Lock _gate = new();
    private readonly Queue<SystemSample> _history = new();
    private CpuReading? _lastCpu;
    private double? _lastCpuPercent;
    private DiskFigures? _lastDisk;

    /// <summary>Set by another part of the service that knows how many event streams are open (none yet: null).</summary>
    public Func<int>? OpenStreams { get; set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Sample();
        using var timer = new PeriodicTimer(_options.SampleInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) Sample();
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Takes one sample into the history (the timer's work; tests call it directly).</summary>
    public SystemSample Sample()
    {
        var now = clock.GetUtcNow();
        var cpu = CpuPercentSinceLast();
        var memory = Memory();
        var process = Process();
        var disk = Disk();
        var sample = new SystemSample(Timestamp.From(now), cpu, memory.UsedPercent, process.WorkingSetBytes, process.GcHeapBytes, disk.FreeBytes);
        var keep = (int)Math.Clamp(_options.HistoryLength / _options.SampleInterval, 1, MaxHistory);
        lock (_gate)
        {
            _history.Enqueue(sample);
            while (_history.Count > keep) _history.Dequeue();
        }
        return sample;
    }

    /// <summary>The disk as last sampled (or now, before the first sample).</summary>
    public DiskFigures LastDisk => _lastDisk ?? Disk();

    public SystemFiguresReport Report()
    {
        List<SystemSample> history;
        lock (_gate) history = [.. _history];
        return new SystemFiguresReport(
            _lastCpuPercent, LoadAverage(), Memory(), Process(), Disk(),
            (long)(clock.GetUtcNow() - started.At).TotalSeconds, (long)_options.SampleInterval.TotalSeconds, history);
    }

    public DiskFigures Disk()
    {
        var path = database.DataDirectory;
        try
        {
            var drive = new DriveInfo(path);
            return _lastDisk = new DiskFigures(path, drive.AvailableFreeSpace, drive.TotalSize, drive.AvailableFreeSpace < _options.LowDiskBytes, _options.LowDiskBytes);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return _lastDisk = new DiskFigures(path, 0, 0, Low: true, _options.LowDiskBytes);
        }
    }

    private ProcessFigures Process()
    {
        var streams = OpenStreams?.Invoke();
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return new ProcessFigures(self.WorkingSet64, GC.GetGCMemoryInfo().HeapSizeBytes, self.Threads.Count,
            ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, streams);
    }

    private static MemoryFigures Memory()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
            {
                long? total = null, available = null;
                foreach (var line in File.ReadLines("/proc/meminfo"))
                {
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal)) total = Kilobytes(line);
                    else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)) available = Kilobytes(line);
                }
                if (total is > 0 && available is { } a) return new MemoryFigures(total, a, Math.Round(100.0 * (total.Value - a) / total.Value, 1));
            }
        }
        catch (IOException) { }
        var info = GC.GetGCMemoryInfo();
        return new MemoryFigures(info.TotalAvailableMemoryBytes, null, null);
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    private static IReadOnlyList<double>? LoadAverage()
    {
        try
        {
            if (!File.Exists("/proc/loadavg")) return null;
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        }
        catch (Exception e) when (e is IOException or FormatException) { return null; }
    }

    private double? CpuPercentSinceLast()
    {
        var now = ReadCpu();
        var last = _lastCpu;
        _lastCpu = now;
        if (last is null || now.Total <= last.Total) return _lastCpuPercent;
        return _lastCpuPercent = Math.Round(100.0 * (now.Busy - last.Busy) / (now.Total - last.Total), 1);
    }

    private sealed record CpuReading(double Busy, double Total);

    private static CpuReading ReadCpu()
    {
        try
        {
            if (File.Exists("/proc/stat"))
            {
                var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
                var total = fields.Take(8).Sum();
                return new CpuReading(total - idle, total);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException) { }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return new CpuReading(self.TotalProcessorTime.TotalMilliseconds, Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency * Environment.ProcessorCount);
    }
}

public static class SystemFiguresSetup
{
    public static IServiceCollection AddSystemFigures(this IServiceCollection services)
    {
        services.AddSingleton<SystemFigures>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemFigures>());
        return services;
    }
}
