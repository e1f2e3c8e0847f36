using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace Sanctum.Api.Backups;

/// <summary>
/// Every row of every table, as one SHA-256 per row keyed by the row's primary key, so a restore can say which rows it
/// added, removed and changed in each table, not only how many rows each has (VersionInfo left out). A table without
/// a primary key is compared as a multiset of rows: a row that differs counts as one removed and one added.
/// </summary>
public sealed class TableContents
{
    private readonly Dictionary<string, Dictionary<string, string>> _tables;

    private TableContents(Dictionary<string, Dictionary<string, string>> tables) => _tables = tables;

    public static TableContents Read(DbConnection db, bool sqlite)
    {
        var names = db.Query<string>(sqlite
            ? "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'VersionInfo' ORDER BY name"
            : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'VersionInfo' ORDER BY 1").ToList();
        var tables = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var table in names) tables[table] = Rows(db, sqlite, table);
        return new TableContents(tables);
    }

    public IReadOnlyDictionary<string, long> Counts => _tables.ToDictionary(t => t.Key, t => (long)t.Value.Count, StringComparer.Ordinal);

    /// <summary>Per table of either side: rows before and after, and the rows added, removed and changed.</summary>
    public static IReadOnlyList<TableChange> Compare(TableContents before, TableContents after) =>
        before._tables.Keys.Union(after._tables.Keys).Order(StringComparer.Ordinal).Select(name =>
        {
            var old = before._tables.GetValueOrDefault(name) ?? [];
            var now = after._tables.GetValueOrDefault(name) ?? [];
            var added = now.Keys.Count(k => !old.ContainsKey(k));
            var removed = old.Keys.Count(k => !now.ContainsKey(k));
            var changed = now.Count(r => old.TryGetValue(r.Key, out var was) && was != r.Value);
            return new TableChange(name, before._tables.ContainsKey(name) ? old.Count : null, after._tables.ContainsKey(name) ? now.Count : null)
            {
                Added = added, Removed = removed, Changed = changed,
            };
        }).ToList();

    private static Dictionary<string, string> Rows(DbConnection db, bool sqlite, string table)
    {
        var quoted = "\"" + table.Replace("\"", "\"\"") + "\"";
        var keys = db.Query<string>(sqlite
            ? "SELECT name FROM pragma_table_info(@table) WHERE pk > 0 ORDER BY pk"
            : """
              SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
              WHERE i.indrelid = to_regclass(quote_ident(@table)) AND i.indisprimary ORDER BY a.attnum
              """, new { table }).ToList();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        using var reader = db.ExecuteReader($"SELECT * FROM {quoted}");
        var keyOrdinals = keys.Select(reader.GetOrdinal).ToArray();
        var text = new StringBuilder();
        var duplicates = 0;
        while (reader.Read())
        {
            text.Clear();
            for (var i = 0; i < reader.FieldCount; i++) text.Append(Value(reader, i)).Append('\u001f');
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
            var key = keyOrdinals.Length > 0 ? string.Join('\u001f', keyOrdinals.Select(o => Value(reader, o))) : hash;
            // Identical rows of a table without a key: each is still a row.
            if (!rows.TryAdd(key, hash)) rows[key + "\u001e" + ++duplicates] = hash;
        }
        return rows;
    }

    private static string Value(System.Data.IDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? "\u2400" : reader.GetValue(ordinal) switch
    {
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var v => v.ToString() ?? "",
    };
}
