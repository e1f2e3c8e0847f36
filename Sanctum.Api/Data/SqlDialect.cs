namespace Sanctum.Api.Data;

/// <summary>
/// The few SQL fragments that differ between SQLite and PostgreSQL, in one place. Everything else is written once in
/// the SQL both accept: booleans compared as truth values (<c>WHERE is_active</c>, <c>TRUE</c>/<c>FALSE</c>),
/// <c>IS [NOT] DISTINCT FROM</c>, <c>COUNT(*) FILTER (WHERE ...)</c>, <c>coalesce</c>, <c>ON CONFLICT</c>,
/// <c>RETURNING</c>, timestamps as ISO-8601 text made by the application (<see cref="Timestamp"/>), and SQLite's JSON
/// functions (json_each, json_extract, json_valid, json_type), which Phase 1 defines on PostgreSQL.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new()
    {
        Engine = DatabaseEngine.Sqlite,
        TableExists = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = @table)",
        CaseInsensitiveLike = "LIKE",
        SkipLocked = "",
        UserSearch = "id IN (SELECT rowid FROM users_search WHERE users_search MATCH @phrase)",
    };

    public static readonly SqlDialect Postgres = new()
    {
        Engine = DatabaseEngine.Postgres,
        TableExists = "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @table)",
        CaseInsensitiveLike = "ILIKE",
        SkipLocked = " FOR UPDATE SKIP LOCKED",
        // pg_trgm's GIN index (Phase 2) serves ILIKE '%term%' for terms of 3+ characters.
        UserSearch = @"(username ILIKE @phrase ESCAPE '\' OR email ILIKE @phrase ESCAPE '\')",
    };

    public static SqlDialect For(DatabaseEngine engine) => engine == DatabaseEngine.Sqlite ? Sqlite : Postgres;

    /// <summary>The dialect of the engine a connection talks to.</summary>
    public static SqlDialect Of(System.Data.IDbConnection connection) =>
        connection is Microsoft.Data.Sqlite.SqliteConnection ? Sqlite : Postgres;

    /// <summary>
    /// "is one of the list parameter": Dapper expands <c>IN @list</c> into one parameter per item on SQLite, but
    /// hands a list to Npgsql as one array, which PostgreSQL compares with <c>= ANY(@list)</c> (pass an array).
    /// </summary>
    public string InList(string parameter) => Engine == DatabaseEngine.Sqlite ? $"IN {parameter}" : $"= ANY({parameter})";

    public required DatabaseEngine Engine { get; init; }

    /// <summary>True when table @table exists.</summary>
    public required string TableExists { get; init; }

    /// <summary>
    /// Ends a SELECT of rows to update so that rows other transactions hold are skipped (a queue's hand-out).
    /// Nothing on SQLite, whose one writer at a time never meets a locked row.
    /// </summary>
    public required string SkipLocked { get; init; }

    /// <summary>LIKE that ignores (ASCII) case: SQLite's LIKE does, PostgreSQL's ILIKE.</summary>
    public required string CaseInsensitiveLike { get; init; }

    /// <summary>
    /// Users whose username or email contains the search term (3+ characters), through the engine's trigram index:
    /// @phrase is <see cref="UserSearchPhrase"/> of the term.
    /// </summary>
    public required string UserSearch { get; init; }

    /// <summary>The parameter value <see cref="UserSearch"/> takes for a term.</summary>
    public string UserSearchPhrase(string term) => Engine == DatabaseEngine.Sqlite
        // FTS5 with the trigram tokenizer: a quoted phrase is a case-insensitive substring match.
        ? "\"" + term.Replace("\"", "\"\"") + "\""
        : "%" + EscapeLike(term) + "%";

    /// <summary>% and _ (and the escape \) matched literally in a LIKE pattern with ESCAPE '\'.</summary>
    public static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
