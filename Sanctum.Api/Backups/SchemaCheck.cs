using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Dapper;
using FluentMigrator.Runner;
using Microsoft.Data.Sqlite;
using Sanctum.Migrations;

namespace Sanctum.Api.Backups;

/// <summary>
/// Refuses a backup whose schema is not exactly the one this build's migrations create at the backup's version: a
/// trigger, view, table or index they do not create (a trigger that makes a user admin at sign-in), or one whose
/// definition differs, never reaches the live database. On SQLite the reference is an empty database migrated to the
/// backup's version (made once per version); on PostgreSQL, where a backup restores only at the live schema version,
/// it is the live database's own schema as pg_dump writes it.
/// </summary>
public static partial class SchemaCheck
{
    private const int MaxShown = 5;
    private static readonly ConcurrentDictionary<long, Dictionary<string, string>> References = new();

    /// <summary>The differences between the copy's schema and this build's at <paramref name="version"/> (none: the same).</summary>
    public static IReadOnlyList<string> SqliteProblems(SqliteConnection copy, long version)
    {
        var reference = References.GetOrAdd(version, SqliteReference);
        var actual = SqliteObjects(copy);
        var problems = new List<string>();
        foreach (var (key, sql) in actual)
        {
            if (!reference.TryGetValue(key, out var expected)) problems.Add($"The backup has a {key} that this build's migrations do not create.");
            else if (expected != sql) problems.Add($"The backup's {key} differs from the one this build's migrations create.");
        }
        foreach (var key in reference.Keys.Where(k => !actual.ContainsKey(k))) problems.Add($"The backup lacks the {key} this build's migrations create.");
        return problems;
    }

    private static Dictionary<string, string> SqliteObjects(SqliteConnection connection) =>
        connection.Query<(string Type, string Name, string? Sql)>("SELECT type, name, sql FROM sqlite_schema")
            // SQLite's own statistics and sequence tables come and go with ANALYZE and AUTOINCREMENT.
            .Where(o => !(o.Type == "table" && (o.Name == "sqlite_sequence" || o.Name.StartsWith("sqlite_stat", StringComparison.Ordinal))))
            .ToDictionary(o => $"{o.Type} '{o.Name}'", o => Spaces().Replace(o.Sql ?? "", " ").Trim(), StringComparer.Ordinal);

    private static Dictionary<string, string> SqliteReference(long version)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sanctum-schema-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "reference.db"), Pooling = false }.ToString();
            using (var services = new ServiceCollection()
                       .AddSingleton(new SeedSettings { AdminPasswordHash = "reference" })
                       .AddFluentMigratorCore()
                       .ConfigureRunner(r => r.AddSQLite().WithGlobalConnectionString(connectionString).ScanIn(typeof(Phase1MinimalSchema).Assembly).For.Migrations())
                       .BuildServiceProvider())
            using (var scope = services.CreateScope())
                scope.ServiceProvider.GetRequiredService<IMigrationRunner>().MigrateUp(version);
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            return SqliteObjects(connection);
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The statements of <paramref name="backup"/>'s schema that the live schema lacks, and the reverse.</summary>
    public static IReadOnlyList<string> PostgresProblems(string backup, string live)
    {
        var ours = Statements(live);
        var theirs = Statements(backup);
        var extra = theirs.Except(ours).ToList();
        var missing = ours.Except(theirs).ToList();
        var problems = extra.Take(MaxShown).Select(s => $"The backup's schema has what this build's migrations do not create: {Short(s)}").ToList();
        problems.AddRange(missing.Take(MaxShown).Select(s => $"The backup's schema lacks what this build's migrations create: {Short(s)}"));
        return problems;
    }

    // pg_dump's script as a set of statements, without comments, settings and psql meta-commands (which name versions).
    private static HashSet<string> Statements(string script) =>
        script.Split(";\n").Select(statement => string.Join(' ', statement.Split('\n')
                .Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal) && !l.StartsWith('\\')
                            && !l.StartsWith("SET ", StringComparison.Ordinal) && !l.StartsWith("SELECT pg_catalog.set_config", StringComparison.Ordinal))))
            .Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);

    private static string Short(string statement) => statement.Length > 160 ? statement[..160] + "…" : statement;

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
