using System.CommandLine;
using Sanctum.Api.Import;
using Sanctum.Api.Tests.Evidence;

namespace Sanctum.Api.Tests.Import;

/// <summary>What import-flask refuses, with which exit code, and that a refusal or a failure part-way changes nothing.</summary>
public sealed class ImportFlaskRefusalTests
{
    private string _directory = null!;

    [SetUp]
    public void MakeDirectory()
    {
        _directory = Directory.CreateTempSubdirectory("sanctum-flask-").FullName;
    }

    [TearDown]
    public void RemoveDirectory()
    {
        SqliteConnection.ClearAllPools();
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public void AFileThatIsNotSqliteIsRefusedWithOneLine()
    {
        var path = Path.Combine(_directory, "notes.db");
        File.WriteAllText(path, "these are not the tables you are looking for");
        using var app = new SanctumApplication();

        var (code, output, error) = Invoke(app, "import-flask", path);

        Assert.That(code, Is.EqualTo(ImportExitCodes.NotSqlite), error);
        Assert.That(error.Trim(), Is.EqualTo($"{path} is not a SQLite database."));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void AMissingFileIsRefusedAsNotSqlite()
    {
        using var app = new SanctumApplication();
        var (code, _, error) = Invoke(app, "import-flask", Path.Combine(_directory, "nowhere.db"));
        Assert.That(code, Is.EqualTo(ImportExitCodes.NotSqlite), error);
    }

    [Test]
    public void ASqliteDatabaseWithoutTheOldTablesIsRefusedAsNotFlask()
    {
        var path = Path.Combine(_directory, "other.db");
        using (var other = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            other.Open();
            other.Execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, email TEXT, password_hash TEXT)");
        }
        using var app = new SanctumApplication();

        var (code, _, error) = Invoke(app, "import-flask", path);

        Assert.That(code, Is.EqualTo(ImportExitCodes.NotFlask), error);
        Assert.That(error.Trim(), Is.EqualTo($"{path} is not the Flask control panel's database: no table agents, system_config."));
    }

    [Test]
    public void ThisServicesOwnDatabaseIsRefusedAsNotFlask()
    {
        TestEngine.RequireSqlite("the service's own database as a file");
        using var app = new SanctumApplication();
        var digest = DigestOf(app);

        var (code, _, error) = Invoke(app, "import-flask", app.DatabasePath);

        Assert.That(code, Is.EqualTo(ImportExitCodes.NotFlask), error);
        Assert.That(error, Does.Contain("is a Sanctum.Api database"));
        Assert.That(DigestOf(app), Is.EqualTo(digest));
    }

    [Test]
    public async Task ADataDirectoryInUseByARunningServerIsRefusedAndNothingIsImported()
    {
        var dataDirectory = Path.Combine(_directory, "data");
        var old = FlaskDatabase.Create(_directory);
        await using (var server = await ServerProcess.StartAsync(dataDirectory))
        {
            var refused = await ImportCli.RunAsync(dataDirectory, "import-flask", old);
            Assert.That(refused.ExitCode, Is.EqualTo(ImportExitCodes.DataDirectoryInUse), refused.ToString());
            Assert.That(refused.Error, Does.Contain("is in use"));
        }
        using var db = ServerProcess.OpenDatabase(dataDirectory);
        Assert.That(db.QuerySingle<long>("SELECT COUNT(*) FROM users WHERE username = 'vera'"), Is.Zero);

        // With the server stopped the same command goes through: the refusal was about the server, not the file.
        db.Close();
        var imported = await ImportCli.RunAsync(dataDirectory, "import-flask", old);
        Assert.That(imported.ExitCode, Is.EqualTo(ImportExitCodes.Done), imported.ToString());
    }

    [Test]
    public async Task AFailurePartWayLeavesTheDataDirectoryAsItWas()
    {
        var dataDirectory = Path.Combine(_directory, "data");
        var withoutChat = FlaskDatabase.Create(_directory, withChat: false);
        var first = await ImportCli.RunAsync(dataDirectory, "import-flask", withoutChat);
        Assert.That(first.ExitCode, Is.EqualTo(ImportExitCodes.Done), first.ToString());

        string before;
        using (var db = ServerProcess.OpenDatabase(dataDirectory))
        {
            // The last table the import writes refuses every row: sessions and messages are already written by then.
            db.Execute(TestEngine.IsPostgres
                ? """
                  CREATE FUNCTION refuse_responses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;
                  CREATE TRIGGER refuse_responses BEFORE INSERT ON web_chat_responses FOR EACH ROW EXECUTE FUNCTION refuse_responses();
                  """
                : "CREATE TRIGGER refuse_responses BEFORE INSERT ON web_chat_responses BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
            db.Execute("UPDATE system_config SET config_value = '1800' WHERE config_key = 'session_timeout'");
            before = DatabaseDigest.Compute(db);
        }

        var failed = await ImportCli.RunAsync(dataDirectory, "import-flask", FlaskDatabase.Create(_directory));

        Assert.That(failed.ExitCode, Is.EqualTo(ImportExitCodes.Failed), failed.ToString());
        Assert.That(failed.Error, Does.Contain("The import failed and nothing was changed").And.Contain("disk on fire"));
        using (var db = ServerProcess.OpenDatabase(dataDirectory))
        {
            Assert.That(DatabaseDigest.Compute(db), Is.EqualTo(before));
            Assert.That(db.QuerySingle<long>("SELECT COUNT(*) FROM web_chat_sessions"), Is.Zero);
        }
    }

    private static (int Code, string Output, string Error) Invoke(SanctumApplication app, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { ImportFlaskCommand.Create(app.Services) };
        var code = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    // Not the jobs' next run: the job scheduler fills it in once it starts, which on a busy machine can fall between
    // the two digests; the import never schedules jobs.
    private static string DigestOf(SanctumApplication app)
    {
        using var db = app.OpenDatabase();
        return DatabaseDigest.Compute(db, ["jobs.next_run_at"]);
    }
}
