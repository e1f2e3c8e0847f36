using System.Reflection;
using System.Text.RegularExpressions;

namespace Sanctum.Api.Tests.Evidence;

/// <summary>What a new reader needs first is where they look first: how to sign in under "Run it", how to run a part under "Test it".</summary>
public partial class ReadmeTests
{
    private static string Section(string heading)
    {
        var text = File.ReadAllText(Path.Combine(OpenApiTests.RepositoryRoot(), "README.md"));
        var start = text.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"README has no section {heading}");
        var end = text.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return text[start..(end < 0 ? text.Length : end)];
    }

    [Test]
    public void RunItSaysHowToSignInTheFirstTime()
    {
        var run = Section("Run it");
        Assert.That(run, Does.Contain("**admin**").And.Contain("admin123").And.Contain("initial-admin-password").And.Contain("12 characters"));
    }

    [Test]
    public void TestItSaysHowBigTheSuiteIsAndHowToRunOnePartWithNamesThatExist()
    {
        var test = Section("Test it");
        Assert.That(test, Does.Contain("--filter").And.Contain("minutes"));
        var tests = typeof(ReadmeTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods().Where(m => m.GetCustomAttributes<TestAttribute>().Any() || m.GetCustomAttributes<TestCaseAttribute>().Any())
                .Select(m => (Class: t.FullName!, Method: m.Name)))
            .ToList();
        foreach (Match filter in Filter().Matches(test))
        {
            var (op, value) = (filter.Groups["op"].Value, filter.Groups["value"].Value);
            var found = filter.Groups["field"].Value == "Name"
                ? tests.Any(t => t.Method == value)
                : tests.Any(t => $"{t.Class}.{t.Method}".Contains(value, StringComparison.Ordinal));
            Assert.That(found, Is.True, $"the README's filter {filter.Value} names no test ({op})");
        }
        Assert.That(Filter().Matches(test), Has.Count.GreaterThanOrEqualTo(3));
    }

    [GeneratedRegex(@"--filter ""(?<field>FullyQualifiedName|Name)(?<op>~|=|!~)(?<value>[A-Za-z0-9_.]+)""")]
    private static partial Regex Filter();
}
