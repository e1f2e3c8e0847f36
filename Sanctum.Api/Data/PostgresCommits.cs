using Dapper;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>
/// Commits to the PostgreSQL database, counted from notifications: every table has statement triggers that call
/// <c>pg_notify('sanctum_data', '')</c> when a statement changed rows (<see cref="InstallTriggersSql"/>), which PostgreSQL
/// sends at the commit of the writing transaction (one per transaction, however many rows), and to nobody if it rolls back.
/// <para>
/// This process's own commits are counted by its connections as soon as they are visible (<see cref="PostgresCommand"/>,
/// <see cref="PostgresTransaction"/>), before the call that commits returns: a request never sees a cached answer older
/// than a commit made before it on this instance. Commits of other instances (or any other client) arrive on
/// <see cref="DataVersion"/>'s listening connection, pushed by the server within the time it takes to deliver a message
/// (no request waits for them). Only that connection listens: PostgreSQL wakes every listening session of the database
/// at every notifying commit, and when every pooled connection listened, that cost the server 15-31 ms of CPU per
/// setting write (4.6 ms with 8 connections; bench/RESULTS.md, stop 26).
/// </para>
/// </summary>
public sealed class PostgresCommits
{
    public const string Channel = "sanctum_data";

    private long _count;

    /// <summary>Notifications heard so far (only ever grows).</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Counts a change that was not announced (a listener that had to start again, a restore).</summary>
    public long Bump() => Interlocked.Increment(ref _count);

    /// <summary>
    /// An open connection of its own (outside the pool) that listens on the channel and counts what it hears. PostgreSQL
    /// delivers a session's own notifications before it reports the commit finished, so what is committed through it is
    /// counted before the call returns, as through the pool.
    /// </summary>
    public NpgsqlConnection OpenListener(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            connection.Open();
            connection.Notification += (_, _) => Interlocked.Increment(ref _count);
            connection.Execute($"LISTEN {Channel}");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The functions and statement triggers on every table of the schema that lacks them (tables of later migrations
    /// included): run after the migrations, under their lock. INSERT, UPDATE and DELETE notify only when the statement
    /// changed a row (their transition table is not empty): the background pollers' claims run every second and mostly
    /// find nothing due, and a notification for each emptied every cache of every instance each second. An earlier
    /// database's trigger that notified for every statement (<c>sanctum_data_changed</c>) is replaced.
    /// </summary>
    public const string InstallTriggersSql = $$"""
        CREATE OR REPLACE FUNCTION sanctum_data_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            PERFORM pg_notify('{{Channel}}', '');
            RETURN NULL;
        END $f$;
        CREATE OR REPLACE FUNCTION sanctum_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF EXISTS (SELECT 1 FROM changed) THEN PERFORM pg_notify('{{Channel}}', ''); END IF;
            RETURN NULL;
        END $f$;
        DO $d$
        DECLARE t record;
        BEGIN
            FOR t IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
                       AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'sanctum_truncated')
            LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS sanctum_data_changed ON %s', t.name);
                EXECUTE format('CREATE TRIGGER sanctum_rows_inserted AFTER INSERT ON %s REFERENCING NEW TABLE AS changed '
                    'FOR EACH STATEMENT EXECUTE FUNCTION sanctum_rows_changed()', t.name);
                EXECUTE format('CREATE TRIGGER sanctum_rows_updated AFTER UPDATE ON %s REFERENCING NEW TABLE AS changed '
                    'FOR EACH STATEMENT EXECUTE FUNCTION sanctum_rows_changed()', t.name);
                EXECUTE format('CREATE TRIGGER sanctum_rows_deleted AFTER DELETE ON %s REFERENCING OLD TABLE AS changed '
                    'FOR EACH STATEMENT EXECUTE FUNCTION sanctum_rows_changed()', t.name);
                EXECUTE format('CREATE TRIGGER sanctum_truncated AFTER TRUNCATE ON %s '
                    'FOR EACH STATEMENT EXECUTE FUNCTION sanctum_data_changed()', t.name);
            END LOOP;
        END $d$;
        """;
}
