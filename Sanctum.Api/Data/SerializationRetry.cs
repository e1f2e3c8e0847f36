using System.Data.Common;

namespace Sanctum.Api.Data;

/// <summary>
/// On PostgreSQL, a request whose transaction lost a serialization race (or a deadlock) is run again, up to
/// <see cref="Attempts"/> times with a short random pause, before the client sees 503: serializable transactions
/// (Database) are how the invariants SQLite kept by writing one at a time hold across connections and instances.
/// The body is buffered so it can be read again, and the request's connection is closed so the endpoint opens it afresh.
/// SQLite retries a busy database itself (Database.WaitWhileBusy), so there this is a pass-through.
/// </summary>
public static class SerializationRetry
{
    public const int Attempts = 5;

    public static IApplicationBuilder UseSerializationRetry(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<Database>().IsSqlite) return app;
        return app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await next(context);
                    return;
                }
                catch (DbException e) when (attempt < Attempts && DbErrors.IsBusy(e) && !context.Response.HasStarted)
                {
                    await context.RequestServices.GetRequiredService<DbConnection>().CloseAsync();
                    context.Request.Body.Position = 0;
                    await Task.Delay(Random.Shared.Next(5, 20 * attempt), context.RequestAborted);
                }
            }
        });
    }

    /// <summary>Runs <paramref name="work"/> again while it fails with a serialization error, for work outside a request.</summary>
    public static T Run<T>(Func<T> work)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return work();
            }
            catch (DbException e) when (attempt < Attempts && DbErrors.IsBusy(e))
            {
                Thread.Sleep(Random.Shared.Next(5, 20 * attempt));
            }
        }
    }
}
