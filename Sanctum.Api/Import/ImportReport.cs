namespace Sanctum.Api.Import;

/// <summary>
/// The exit codes of <c>import-flask</c> (0 to 3 as every admin command has them); every refusal also prints one line
/// saying why.
/// </summary>
public static class ImportExitCodes
{
    public const int Done = 0;
    /// <summary>The command line is wrong.</summary>
    public const int UsageError = 1;
    /// <summary>The import failed part-way; the data directory is unchanged.</summary>
    public const int Failed = 2;
    /// <summary>A running server (or another process) has the data directory's database open.</summary>
    public const int DataDirectoryInUse = 3;
    public const int NotSqlite = 4;
    public const int NotFlask = 5;
}

/// <summary>What the import did per table: imported, replaced, and skipped with the reason.</summary>
public sealed class ImportReport
{
    private readonly List<TableReport> _tables = [];

    public List<string> Notes { get; } = [];

    public IReadOnlyList<TableReport> Tables => _tables;

    public TableReport Table(string name)
    {
        var table = _tables.Find(t => t.Name == name);
        if (table is null) _tables.Add(table = new TableReport(name));
        return table;
    }

    public void WriteTo(TextWriter output)
    {
        foreach (var table in _tables)
        {
            output.WriteLine($"{table.Name}: {table.Imported} imported, {table.Replaced} replaced, {table.SkippedCount} skipped");
            foreach (var what in table.ReplacedItems) output.WriteLine($"  replaced: {what}");
            foreach (var (reason, skipped) in table.Skipped)
                output.WriteLine($"  skipped {skipped.Count}: {reason}{Names(skipped.Names)}");
        }
        foreach (var note in Notes) output.WriteLine($"note: {note}");
    }

    /// <summary>Counts only, for the audit record: names of users and keys stay in the operator's terminal.</summary>
    public object Summary() => _tables.ToDictionary(t => t.Name, t => new { imported = t.Imported, replaced = t.Replaced, skipped = t.SkippedCount });

    private static string Names(List<string> names) => names.Count switch
    {
        0 => "",
        <= 10 => $" ({string.Join(", ", names)})",
        _ => $" ({string.Join(", ", names.Take(10))}, and {names.Count - 10} more)",
    };
}

public sealed class TableReport(string name)
{
    public string Name { get; } = name;
    public int Imported { get; private set; }
    public int Replaced => ReplacedItems.Count;
    public List<string> ReplacedItems { get; } = [];
    public SortedDictionary<string, (int Count, List<string> Names)> Skipped { get; } = new(StringComparer.Ordinal);
    public int SkippedCount => Skipped.Values.Sum(s => s.Count);

    public void Import() => Imported++;

    /// <summary>A row that took the place of one already there; <paramref name="what"/> names it and says why.</summary>
    public void Replace(string what) => ReplacedItems.Add(what);

    /// <summary>A row left out; rows with the same reason are counted together, naming up to ten of them.</summary>
    public void Skip(string reason, string? name = null)
    {
        if (!Skipped.TryGetValue(reason, out var entry)) entry = (0, []);
        if (name is not null) entry.Names.Add(name);
        Skipped[reason] = (entry.Count + 1, entry.Names);
    }
}
