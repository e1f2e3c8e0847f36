using System.Data.Common;

namespace Sanctum.Api.Data;

/// <summary>
/// On PostgreSQL, a request whose transaction lost a serialization race (or a deadlock) is run again, with a short
/// random pause growing with each try, for up to <see cref="Budget"/> (as SQLite waits for its write lock) before the
/// client sees 503: serializable transactions (PostgresConnection) are how the invariants SQLite kept by writing one
/// at a time hold across connections and instances.
/// The body is buffered so it can be read again, and the request's connection is closed so the endpoint opens it afresh.
/// A request that lost once runs again in the retry lane, one at a time per instance: retried writers to one hot row
/// (64 at once in ConcurrencyTests) then stop losing to each other and each gets through in turn.
/// SQLite retries a busy database itself (Database.WaitWhileBusy), so there this is a pass-through.
/// </summary>
public static class SerializationRetry
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(15);

    private static readonly SemaphoreSlim RetryLane = new(1, 1);

    /// <summary>The pause before try <paramref name="attempt"/> + 1: random, up to 2^attempt ms, at most 100 ms.</summary>
    private static int Pause(int attempt) => Random.Shared.Next(1, Math.Min(100, 1 << Math.Min(attempt, 7)) + 1);

    public static IApplicationBuilder UseSerializationRetry(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<Database>().IsSqlite) return app;
        return app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var inLane = false;
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await next(context);
                        return;
                    }
                    catch (DbException e) when (started.Elapsed < Budget && DbErrors.IsBusy(e) && !context.Response.HasStarted)
                    {
                        await context.RequestServices.GetRequiredService<DbConnection>().CloseAsync();
                        context.Request.Body.Position = 0;
                        if (!inLane) inLane = await RetryLane.WaitAsync(Budget - started.Elapsed, context.RequestAborted);
                        else await Task.Delay(Pause(attempt), context.RequestAborted);
                    }
                }
            }
            finally
            {
                if (inLane) RetryLane.Release();
            }
        });
    }

    /// <summary>Runs <paramref name="work"/> again while it fails with a serialization error, for work outside a request.</summary>
    public static async Task RunAsync(Func<Task> work)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await work();
                return;
            }
            catch (DbException e) when (started.Elapsed < Budget && DbErrors.IsBusy(e))
            {
                await Task.Delay(Pause(attempt));
            }
        }
    }
}
