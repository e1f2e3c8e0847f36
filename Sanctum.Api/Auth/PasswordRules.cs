using System.IO.Compression;

namespace Sanctum.Api.Auth;

/// <summary>
/// The rule for every new password (sign-up, reset, own change, the seeded admin's forced change): at least
/// <see cref="MinLength"/> characters, at most bcrypt's <see cref="PasswordHasher.MaxBytes"/> bytes, and not guessable:
/// not the username, the email or the product's name inside it, not one repeated or sequential pattern
/// (<c>bbbbbbbbbbbb</c>, <c>adminadmin12</c>, <c>qwertyuiop123</c>), and not a common password (30,000 of them, shipped
/// compressed) with digits or symbols around it or letters swapped for look-alikes (<c>Passw0rd2025</c>).
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 12;

    /// <summary>Names a password must not contain (compared in lower case).</summary>
    private static readonly string[] ProductNames = ["sanctum"];

    /// <summary>Keyboard rows and the alphabet, forwards; a run along one (either way) is a sequence.</summary>
    private static readonly string[] Sequences = ["abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"];

    private static readonly HashSet<string> Common = LoadCommon();

    /// <summary>How many common passwords are known (for the rules shown to the pages).</summary>
    public static int CommonCount => Common.Count;

    /// <summary>The rules in one sentence, as the pages show them.</summary>
    public static string Summary =>
        $"At least {MinLength} characters; not your username or email, not the product's name, not a repeated or sequential "
        + "pattern, and not a common password (also with digits added or letters swapped for look-alikes).";

    /// <summary>Null when the password is acceptable for the account, else why not.</summary>
    public static string? Check(string? password, string? username = null, string? email = null)
    {
        if (string.IsNullOrEmpty(password)) return "A password is required.";
        if (password.Length < MinLength) return $"The password must be at least {MinLength} characters.";
        if (System.Text.Encoding.UTF8.GetByteCount(password) > PasswordHasher.MaxBytes) return $"The password must be at most {PasswordHasher.MaxBytes} bytes.";
        var lower = password.ToLowerInvariant();
        if (Same(lower, username) || Same(lower, email)) return "The password must differ from the username and the email.";
        if (Inside(lower, username) || Inside(lower, email?.Split('@')[0])) return "The password must not contain the username or the email.";
        if (ProductNames.Any(lower.Contains)) return "The password must not contain the product's name.";
        // The word inside counts when it is most of the password: "love" before twelve random digits is no weakness.
        var core = Core(lower);
        var coreCounts = core.Length * 2 >= lower.Length;
        if (Common.Contains(lower) || Common.Contains(Unleet(lower)) || (coreCounts && (Common.Contains(core) || Common.Contains(Unleet(core)))))
            return "This password is on the list of common passwords (or is one with digits or symbols added); choose another.";
        if (IsPattern(lower) || (coreCounts && IsPattern(core))) return "The password is a repeated or sequential pattern; choose something less predictable.";
        return null;
    }

    private static bool Same(string lower, string? other) => !string.IsNullOrEmpty(other) && lower == other.ToLowerInvariant();

    private static bool Inside(string lower, string? part) => part is { Length: >= 3 } && lower.Contains(part.ToLowerInvariant(), StringComparison.Ordinal);

    /// <summary>The password without the digits and symbols people put before and after a word (Passw0rd2025! is passw0rd).</summary>
    private static string Core(string lower)
    {
        var start = 0;
        var end = lower.Length;
        while (start < end && !char.IsLetter(lower[start])) start++;
        while (end > start && !char.IsLetter(lower[end - 1])) end--;
        return lower[start..end];
    }

    /// <summary>Look-alike digits and symbols read as the letters they stand for.</summary>
    private static string Unleet(string text) => string.Create(text.Length, text, (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
            span[i] = source[i] switch { '0' => 'o', '1' or '!' => 'i', '3' => 'e', '4' or '@' => 'a', '5' or '$' => 's', '7' => 't', '8' => 'b', '9' => 'g', var c => c };
    });

    /// <summary>
    /// True for what a guesser tries first: at most three distinct characters, one chunk repeated (adminadmin,
    /// abcabcabc), or runs along the alphabet, the digits or a keyboard row (qwertyuiop123, abcdef123456).
    /// </summary>
    private static bool IsPattern(string text)
    {
        if (text.Distinct().Count() <= 3) return true;
        for (var unit = 1; unit <= text.Length / 2; unit++)
        {
            if (text.Length % unit != 0) continue;
            var chunk = text[..unit];
            if (Enumerable.Range(1, text.Length / unit - 1).All(k => text.AsSpan(k * unit, unit).SequenceEqual(chunk))) return true;
        }
        // Every character continues a run (of at least 3) along a sequence, forwards or backwards.
        var covered = new bool[text.Length];
        foreach (var sequence in Sequences.Concat(Sequences.Select(s => new string(s.Reverse().ToArray()))))
            for (var i = 0; i < text.Length; i++)
            {
                var length = 0;
                var at = sequence.IndexOf(text[i]);
                while (at >= 0 && at + length < sequence.Length && i + length < text.Length && sequence[at + length] == text[i + length]) length++;
                if (length >= 3) for (var k = i; k < i + length; k++) covered[k] = true;
            }
        return covered.All(c => c);
    }

    private static HashSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordRules).Assembly.GetManifestResourceStream("common-passwords.txt.gz")
            ?? throw new InvalidOperationException("The common-passwords.txt.gz resource is missing from the build.");
        using var reader = new StreamReader(new GZipStream(stream, CompressionMode.Decompress));
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
            if (line.Trim() is { Length: > 0 } entry && !entry.StartsWith('#')) set.Add(entry);
        return set;
    }
}
