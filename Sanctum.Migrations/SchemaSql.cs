namespace Sanctum.Migrations;

/// <summary>SQL fragments every phase shares.</summary>
internal static class SchemaSql
{
    /// <summary>The one timestamp form of the schema: ISO-8601 UTC, whole seconds, so text order is time order.</summary>
    public const string Now = "(strftime('%Y-%m-%dT%H:%M:%SZ','now'))";

    public const string Timestamps = $"""
        created_at TEXT NOT NULL DEFAULT {Now},
        updated_at TEXT NOT NULL DEFAULT {Now}
        """;

    public const string HealthStatuses = "'Healthy','Degraded','Off','Ready'";
    public const string ValueTypes = "'string','number','boolean','json'";

    public static string Bool(string column) => $"CHECK ({column} IN (0,1))";

    public static string Json(string column) => $"CHECK ({column} IS NULL OR json_valid({column}))";
}
