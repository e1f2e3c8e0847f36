using Sanctum.Api.Auth;
using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Security;

/// <summary>Issue 23 item 16 (weak passwords) and issue 24 item 6 (the pages take the rules from the server).</summary>
public class PasswordPolicyTests : ManagementFixture
{
    [TestCase("bbbbbbbbbbbb")]
    [TestCase("Passw0rd2025")]
    [TestCase("qwertyuiop123")]
    [TestCase("adminadmin12")]
    [TestCase("sanctum123456")]
    [TestCase("abcdef123456")]
    [TestCase("P@ssword!!2024")]
    [TestCase("iloveyou1234567")]
    [TestCase("football2023!")]
    [TestCase("987654321zyx")]
    public void TheReviewsWeakPasswordsAreRefused(string password) =>
        Assert.That(PasswordRules.Check(password, "someone", "someone@example.test"), Is.Not.Null, password);

    [TestCase("correct horse battery")]
    [TestCase("my-own-password-1")]
    [TestCase("847362915820")]
    [TestCase("love847362915820")]
    [TestCase("Tangerine-Harbor-42")]
    public void StrongPasswordsPass(string password) =>
        Assert.That(PasswordRules.Check(password, "someone", "someone@example.test"), Is.Null, password);

    [Test]
    public void TheUsernameOrEmailInsideThePasswordIsRefused()
    {
        Assert.That(PasswordRules.Check("xx-margarethe-2024", "margarethe", "m@example.test"), Does.Contain("username"));
        Assert.That(PasswordRules.Check("zz-mhopper-zz-77", "someone", "mhopper@example.test"), Does.Contain("email"));
    }

    [Test]
    public void TheShippedListHoldsTensOfThousands() => Assert.That(PasswordRules.CommonCount, Is.GreaterThan(25_000));

    [TestCase("Passw0rd2025")]
    [TestCase("adminadmin12")]
    public async Task TheApiRefusesThemToo(string password)
    {
        var user = await _app.CreateClientForRoleAsync("user");
        var response = await user.PostAsJsonAsync("/api/auth/password", new { current_password = "role-password-1", new_password = password });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.That(problem.GetProperty("errors").TryGetProperty("new_password", out _), Is.True);
    }

    [Test]
    public async Task ThePagesGetTheRulesFromTheServer()
    {
        var rules = await (await _clients.Anonymous.GetAsync("/api/auth/password-rules")).JsonAsync();
        Assert.That(rules.GetProperty("min_length").GetInt32(), Is.EqualTo(PasswordRules.MinLength));
        Assert.That(rules.GetProperty("summary").GetString(), Does.Contain("12 characters"));
        var page = await _clients.Anonymous.GetStringAsync("/login.html");
        Assert.That(page, Does.Not.Contain("minlength=\"8\"").And.Not.Contain("At least 8 characters"));
    }
}
