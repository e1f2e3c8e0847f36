using FluentMigrator.Runner;
using Microsoft.Extensions.DependencyInjection;
using Sanctum.Migrations;

namespace Sanctum.Api.Tests.Migrations;

/// <summary>The real migrations on a temp SQLite file, driven version by version.</summary>
public sealed class MigrationHarness : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sanctum-migrations", Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services;

    public MigrationHarness(SeedSettings? seed = null)
    {
        Directory.CreateDirectory(_directory);
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "sanctum.db"), ForeignKeys = true, Pooling = false }.ToString();
        var services = new ServiceCollection();
        if (seed is not null) services.AddSingleton(seed);
        _services = services
            .AddFluentMigratorCore()
            .ConfigureRunner(r => r.AddSQLite().WithGlobalConnectionString(ConnectionString).ScanIn(typeof(Phase1MinimalSchema).Assembly).For.Migrations())
            .BuildServiceProvider();
    }

    public string ConnectionString { get; }

    public void Up(long version) => Run(r => r.MigrateUp(version));

    public void UpToLatest() => Run(r => r.MigrateUp());

    public void Down(long version) => Run(r => r.MigrateDown(version));

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Every table, index and trigger as SQLite stores it, plus each table's columns.</summary>
    public string Schema()
    {
        using var db = Open();
        var objects = db.Query<(string Type, string Name, string? Sql)>(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
        var lines = new List<string>();
        foreach (var (type, name, sql) in objects)
        {
            lines.Add($"{type} {name}");
            if (type != "table") { lines.Add(sql ?? ""); continue; }
            foreach (var column in db.Query($"SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('{name}')"))
                lines.Add($"  {column.name} {column.type} notnull={column.notnull} default={column.dflt_value} pk={column.pk}");
            foreach (var fk in db.Query($"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{name}')"))
                lines.Add($"  fk {fk.from} -> {fk.table}({fk.to}) on delete {fk.on_delete}");
        }
        return string.Join('\n', lines);
    }

    private void Run(Action<IMigrationRunner> action)
    {
        using var scope = _services.CreateScope();
        action(scope.ServiceProvider.GetRequiredService<IMigrationRunner>());
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
