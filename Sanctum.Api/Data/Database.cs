using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Sanctum.Api.Data;

/// <summary>Where the database lives and how every connection to it is opened.</summary>
public sealed class Database
{
    public Database(IConfiguration configuration, IOptions<SanctumOptions> options)
    {
        DataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        var builder = new SqliteConnectionStringBuilder(
            configuration.GetConnectionString("Sanctum") ?? $"Data Source={Path.Combine(DataDirectory, "sanctum.db")}")
        {
            ForeignKeys = true,
            Pooling = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY for this long: the busy timeout.
            DefaultTimeout = 30,
        };
        ConnectionString = builder.ToString();
        FilePath = Path.GetFullPath(builder.DataSource);
    }

    public string DataDirectory { get; }
    public string ConnectionString { get; }
    public string FilePath { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }
}
