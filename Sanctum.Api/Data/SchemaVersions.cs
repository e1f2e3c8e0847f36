using System.Data.Common;
using Dapper;

namespace Sanctum.Api.Data;

public static class SchemaVersions
{
    /// <summary>The FluentMigrator version the database was migrated to (0 when it never was).</summary>
    public static long Of(DbConnection connection, SqlDialect dialect) =>
        connection.ExecuteScalar<bool>(dialect.TableExists, new { table = "VersionInfo" })
            ? connection.ExecuteScalar<long?>("SELECT MAX(\"Version\") FROM \"VersionInfo\"") ?? 0
            : 0;
}
