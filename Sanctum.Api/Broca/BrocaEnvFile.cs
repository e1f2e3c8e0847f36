using System.Text;

namespace Sanctum.Api.Broca;

/// <summary>
/// A .env file as lines: comments, blank lines, their order and lines this reader does not understand are kept as they
/// are; only the lines of variables that change are rewritten, and new variables go at the end.
/// </summary>
public sealed class BrocaEnvFile
{
    private readonly List<Line> _lines;

    private sealed record Line(string Raw, string? Name, string? Value, string Export);

    private BrocaEnvFile(List<Line> lines) => _lines = lines;

    public static BrocaEnvFile Parse(string text)
    {
        var raw = text.Replace("\r\n", "\n").Split('\n').ToList();
        if (raw.Count > 0 && raw[^1].Length == 0) raw.RemoveAt(raw.Count - 1);
        return new BrocaEnvFile(raw.Select(ParseLine).ToList());
    }

    /// <summary>Each variable's value (the last line that sets it wins, as dotenv reads it), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Variables
    {
        get
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var line in _lines.Where(l => l.Name is not null))
            {
                if (!values.ContainsKey(line.Name!)) order.Add(line.Name!);
                values[line.Name!] = line.Value!;
            }
            return order.Select(n => new KeyValuePair<string, string>(n, values[n])).ToList();
        }
    }

    public void Set(string name, string value)
    {
        var index = _lines.FindLastIndex(l => l.Name == name);
        var line = new Line("", name, value, index >= 0 ? _lines[index].Export : "");
        line = line with { Raw = $"{line.Export}{name}={Quote(value)}" };
        if (index >= 0) _lines[index] = line;
        else _lines.Add(line);
    }

    public void Remove(string name) => _lines.RemoveAll(l => l.Name == name);

    /// <summary>The file's text; every line ends with a newline.</summary>
    public override string ToString() => _lines.Count == 0 ? "" : string.Join("\n", _lines.Select(l => l.Raw)) + "\n";

    private static Line ParseLine(string raw)
    {
        var text = raw.TrimStart();
        if (text.Length == 0 || text.StartsWith('#')) return new Line(raw, null, null, "");
        var export = "";
        if (text.StartsWith("export ", StringComparison.Ordinal))
        {
            export = "export ";
            text = text[7..].TrimStart();
        }
        var equals = text.IndexOf('=');
        if (equals <= 0) return new Line(raw, null, null, "");
        var name = text[..equals].Trim();
        if (!Settings.ConfigKeys.IsEnvName(name)) return new Line(raw, null, null, "");
        return new Line(raw, name, Unquote(text[(equals + 1)..].Trim()), export);
    }

    private static string Unquote(string value)
    {
        if (value.Length >= 2 && value[0] == '"')
        {
            var result = new StringBuilder();
            for (var i = 1; i < value.Length; i++)
            {
                var c = value[i];
                if (c == '"') return result.ToString();
                if (c == '\\' && i + 1 < value.Length)
                {
                    var next = value[++i];
                    result.Append(next switch { 'n' => '\n', 't' => '\t', _ => next });
                }
                else result.Append(c);
            }
            return result.ToString();
        }
        if (value.Length >= 2 && value[0] == '\'')
        {
            var end = value.IndexOf('\'', 1);
            return end < 0 ? value[1..] : value[1..end];
        }
        var comment = value.IndexOf(" #", StringComparison.Ordinal);
        return (comment >= 0 ? value[..comment] : value).Trim();
    }

    private static string Quote(string value) =>
        value.Length == 0 || value.All(c => char.IsAsciiLetterOrDigit(c) || "_-.:/@+,%".Contains(c))
            ? value
            : "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
