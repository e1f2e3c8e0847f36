using System.ComponentModel;
using System.Data.Common;
using System.Diagnostics;
using Dapper;
using Npgsql;
using Sanctum.Api.Data;

namespace Sanctum.Api.Backups;

/// <summary>pg_dump or pg_restore is missing or failed; nothing was changed (503).</summary>
public class BackupToolException(string message) : Exception(message);

/// <summary>
/// The PostgreSQL-specific half of backups, kept in this one file: a dump of the live database by <c>pg_dump
/// --format=custom</c>, the checks of a dump (pg_restore reads it whole; its schema version), and restoring one in place
/// of the live data with <c>pg_restore --clean --if-exists --single-transaction --no-owner</c>, so every instance sees
/// either the old data or the new. The tools get the server, port, user and database as arguments and the password in
/// PGPASSWORD, never on a command line or in a message.
/// </summary>
public sealed class PostgresDump(Database database, string? binDirectory)
{
    public const string Setting = "Sanctum:PostgresBinDirectory";
    private const int MaxErrorChars = 2000;

    /// <summary>How long the tools wait for another instance's transaction to let go of a table before they give up.</summary>
    public const string LockWait = "30s";

    /// <summary>A consistent dump of the live database at <paramref name="path"/> (pg_dump reads one snapshot; writers carry on).</summary>
    public void Take(string path) =>
        Run("pg_dump", ["--format=custom", "--no-password", $"--lock-wait-timeout={LockWait}", $"--file={path}", .. Target()]);

    /// <summary>
    /// The problems reading the whole dump, every table's data included, as a restore would (none: pg_restore reads it
    /// to the end), without a database: the SQL it would run goes nowhere.
    /// </summary>
    public IReadOnlyList<string> Problems(string path)
    {
        try
        {
            Run("pg_restore", [$"--file={(OperatingSystem.IsWindows() ? "NUL" : "/dev/null")}", path]);
            return [];
        }
        catch (BackupToolException e) when (e is not MissingToolException)
        {
            return [$"sanctum.pgdump is not a dump pg_restore can read ({e.Message})."];
        }
    }

    /// <summary>The highest FluentMigrator version in the dump's VersionInfo rows (0 when it has none).</summary>
    public long SchemaVersion(string path)
    {
        // The table's data as a COPY block: one row per line, the version first, up to the line "\.".
        var script = Run("pg_restore", ["--data-only", "--table=VersionInfo", "--file=-", path]);
        var rows = script.Split('\n').SkipWhile(l => !l.StartsWith("COPY ", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l != "\\.");
        return rows.Select(r => long.TryParse(r.Split('\t')[0], out var v) ? v : 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>The dump's schema as SQL (no data, owners or grants), to compare with <see cref="LiveSchema"/>.</summary>
    public string Schema(string path) =>
        Run("pg_restore", ["--schema-only", "--no-owner", "--no-privileges", "--file=-", path]);

    /// <summary>The live database's schema as SQL, written the same way.</summary>
    public string LiveSchema() =>
        Run("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--no-password", $"--lock-wait-timeout={LockWait}", .. Target()]);

    /// <summary>Replaces the live data with the dump's in one transaction; throws with nothing changed when it fails.</summary>
    public void Restore(string path)
    {
        Run("pg_restore", ["--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-password", .. Target(), path],
            new() { ["PGOPTIONS"] = $"-c lock_timeout={LockWait}" });
        // Idle pooled connections may hold plans of the dropped tables: start afresh.
        database.ClearPool();
        // The dump's data went in before its triggers: re-announce, to every instance's caches, that everything changed
        // (and give tables of a dump taken without the triggers theirs).
        using var connection = database.Open();
        connection.Execute(PostgresCommits.InstallTriggersSql);
        connection.Execute($"SELECT pg_notify('{PostgresCommits.Channel}', '')");
    }

    /// <summary>Rows per table of the live database (VersionInfo left out).</summary>
    public static IReadOnlyDictionary<string, long> RowCounts(DbConnection connection)
    {
        var tables = connection.Query<string>("""
            SELECT table_name FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'VersionInfo'
            ORDER BY 1
            """).ToList();
        return tables.ToDictionary(t => t, t => connection.ExecuteScalar<long>($"SELECT COUNT(*) FROM \"{t.Replace("\"", "\"\"")}\""), StringComparer.Ordinal);
    }

    /// <summary>Where the tool is: the configured folder, else the PATH, else the newest Debian PostgreSQL folder.</summary>
    public string Locate(string tool)
    {
        if (!string.IsNullOrWhiteSpace(binDirectory))
        {
            var configured = Path.Combine(binDirectory, tool);
            return File.Exists(configured) ? configured
                : throw new MissingToolException($"{tool} is not in {binDirectory} ({Setting}): install PostgreSQL's client tools there or change the setting.");
        }
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
        if (onPath is not null) return onPath;
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), out var v) ? v : -1, Path: Path.Combine(d, "bin", tool)))
                .Where(d => d.Version >= 0 && File.Exists(d.Path)).OrderByDescending(d => d.Version).Select(d => d.Path).FirstOrDefault()
            : null;
        return debian ?? throw new MissingToolException(
            $"{tool} was not found (on the PATH or in /usr/lib/postgresql/*/bin): install PostgreSQL's client tools (e.g. the postgresql-client package) or set {Setting} to their folder.");
    }

    private sealed class MissingToolException(string message) : BackupToolException(message);

    /// <summary>The connection arguments (no password: that goes in PGPASSWORD).</summary>
    private string[] Target()
    {
        var c = Settings;
        return [$"--host={c.Host}", $"--port={c.Port}", $"--username={c.Username}", $"--dbname={c.Database}"];
    }

    private NpgsqlConnectionStringBuilder Settings => new(database.ConnectionString);

    private string Run(string tool, string[] arguments, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Locate(tool))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var settings = Settings;
        if (!string.IsNullOrEmpty(settings.Password)) start.Environment["PGPASSWORD"] = settings.Password;
        start.Environment["PGSSLMODE"] = settings.SslMode switch
        {
            SslMode.Disable => "disable", SslMode.Allow => "allow", SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca", SslMode.VerifyFull => "verify-full", _ => "prefer",
        };
        start.Environment["PGAPPNAME"] = "sanctum-backup";
        foreach (var (name, value) in environment ?? []) start.Environment[name] = value;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BackupToolException($"{tool} did not start.");
        }
        catch (Win32Exception e)
        {
            throw new MissingToolException($"{tool} could not be started ({e.Message}): check {Setting}.");
        }
        using (process)
        {
            process.StandardInput.Close();
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0) return output;
            var message = error.Result.Trim();
            if (message.Length > MaxErrorChars) message = message[..MaxErrorChars] + "...";
            throw new BackupToolException($"{tool} failed (exit code {process.ExitCode}): {message}");
        }
    }
}
