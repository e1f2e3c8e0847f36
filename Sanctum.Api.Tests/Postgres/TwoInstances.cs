namespace Sanctum.Api.Tests.Postgres;

/// <summary>
/// Two instances of the service on one PostgreSQL database of their own, as behind a load balancer: each has its own
/// data directory and process state; they share only the database and Sanctum:KeyRingKey. Disposing them drops it.
/// </summary>
public sealed class TwoInstances : IDisposable
{
    private readonly string _database;

    public TwoInstances(IDictionary<string, string?>? settings = null)
    {
        var connection = PostgresTestServer.Instance.CreateDatabase(out _database);
        var shared = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["ConnectionStrings:Sanctum"] = connection,
            ["Sanctum:KeyRingKey"] = PostgresTestServer.KeyRingKey,
        };
        First = new SanctumApplication(shared);
        Second = new SanctumApplication(shared);
        _ = First.Services;
        _ = Second.Services;
    }

    public SanctumApplication First { get; }
    public SanctumApplication Second { get; }

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        PostgresTestServer.Instance.DropDatabase(_database);
    }
}
