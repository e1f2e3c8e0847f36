namespace Sanctum.Api.Tests.Migrations;

/// <summary>
/// Test hosts start on a copy of the schema migrated once per run (<see cref="DatabaseTemplate"/>): the copy must carry
/// FluentMigrator's VersionInfo, so that the host's own start finds every migration applied and runs none.
/// </summary>
public class DatabaseTemplateTests
{
    [Test]
    public void AHostStartedOnTheTemplateFindsEveryMigrationAppliedAndRunsNone()
    {
        TestEngine.RequireSqlite("the template is a file here; on PostgreSQL CREATE DATABASE ... TEMPLATE copies it whole");
        var directory = SanctumApplication.NewDataDirectory();
        List<(long Version, string AppliedOn)> template;
        try
        {
            var copy = Path.Combine(directory, "sanctum.db");
            DatabaseTemplate.CopySqliteTo(copy);
            using var connection = new SqliteConnection($"Data Source={copy};Pooling=False");
            connection.Open();
            template = connection.Query<(long, string)>("SELECT Version, AppliedOn FROM VersionInfo ORDER BY Version").ToList();
        }
        finally { Directory.Delete(directory, recursive: true); }
        var latest = typeof(Sanctum.Migrations.Phase1MinimalSchema).Assembly.GetTypes()
            .Select(t => t.GetCustomAttributes(typeof(FluentMigrator.MigrationAttribute), false).Cast<FluentMigrator.MigrationAttribute>().SingleOrDefault())
            .Where(a => a is not null).Max(a => a!.Version);

        using var app = new SanctumApplication();
        using var db = app.OpenDatabase();
        var applied = db.Query<(long, string)>("SELECT Version, AppliedOn FROM VersionInfo ORDER BY Version").ToList();
        Assert.That(template.Select(r => r.Version).Max(), Is.EqualTo(latest), "the template holds the newest migration");
        Assert.That(applied, Is.EqualTo(template), "the host ran no migration of its own (same versions, applied at the same moments)");
    }
}
