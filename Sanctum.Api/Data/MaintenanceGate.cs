using Microsoft.AspNetCore.Http.HttpResults;

namespace Sanctum.Api.Data;

/// <summary>
/// Lets work that replaces the database (a restore) run alone in this process: it waits for the requests and job runs
/// in flight to finish, and requests arriving meanwhile wait for it (then see the new data) or, after
/// <see cref="RequestWait"/>, get 503 with Retry-After. Nobody ever reads a half-restored database.
/// </summary>
public sealed class MaintenanceGate
{
    public static readonly TimeSpan RequestWait = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _exclusive = new(1, 1);
    private int _active;
    private TaskCompletionSource? _open;    // set while exclusive work runs; completes when it ends
    private TaskCompletionSource? _drained; // completes when the last entered work leaves

    /// <summary>True while exclusive work waits for the work in flight or runs.</summary>
    public bool IsClosed { get { lock (_lock) return _open is not null; } }

    /// <summary>How many are held at the gate now, waiting for exclusive work to end.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    /// <summary>Marks an endpoint the gate lets through (the restore itself, liveness).</summary>
    public sealed class Bypass;

    /// <summary>Enters as one of many; null when exclusive work did not end within <paramref name="wait"/>.</summary>
    public async Task<IDisposable?> EnterAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            Task open;
            lock (_lock)
            {
                if (_open is null)
                {
                    _active++;
                    return new Entered(this);
                }
                open = _open.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return null;
            Interlocked.Increment(ref _waiting);
            try { await open.WaitAsync(left, cancellationToken); }
            catch (TimeoutException) { return null; }
            finally { Interlocked.Decrement(ref _waiting); }
        }
    }

    /// <summary>Runs <paramref name="work"/> once everything entered has left, keeping everyone else out meanwhile.</summary>
    public async Task<T> RunExclusiveAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        await _exclusive.WaitAsync(cancellationToken);
        try
        {
            Task drained;
            lock (_lock)
            {
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_active == 0) _drained.TrySetResult();
                drained = _drained.Task;
            }
            try
            {
                try { await drained.WaitAsync(DrainWait, cancellationToken); }
                catch (TimeoutException) { throw new MaintenanceBusyException($"Requests still running after {DrainWait.TotalSeconds:0} s; nothing was changed."); }
                return await work();
            }
            finally
            {
                TaskCompletionSource open;
                lock (_lock)
                {
                    open = _open!;
                    _open = null;
                    _drained = null;
                }
                open.TrySetResult();
            }
        }
        finally
        {
            _exclusive.Release();
        }
    }

    private void Leave()
    {
        lock (_lock)
        {
            if (--_active == 0) _drained?.TrySetResult();
        }
    }

    private sealed class Entered(MaintenanceGate gate) : IDisposable
    {
        private int _left;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) gate.Leave();
        }
    }
}

/// <summary>Exclusive work could not start because the work in flight did not finish in time.</summary>
public sealed class MaintenanceBusyException(string message) : Exception(message);

public static class MaintenanceGateSetup
{
    /// <summary>Every request (but endpoints marked <see cref="MaintenanceGate.Bypass"/>) passes the gate.</summary>
    public static IApplicationBuilder UseMaintenanceGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<MaintenanceGate.Bypass>() is not null)
        {
            await next(context);
            return;
        }
        var gate = context.RequestServices.GetRequiredService<MaintenanceGate>();
        using var entered = await gate.EnterAsync(MaintenanceGate.RequestWait, context.RequestAborted);
        if (entered is null)
        {
            context.Response.Headers.RetryAfter = "5";
            await TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable",
                detail: "A restore is replacing the database; try again in a few seconds.").ExecuteAsync(context);
            return;
        }
        await next(context);
    });
}
