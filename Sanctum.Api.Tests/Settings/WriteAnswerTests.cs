using Sanctum.Api.Tests.Management;

namespace Sanctum.Api.Tests.Settings;

/// <summary>
/// A setting write answers with the setting as it is now stored (the core builds that answer from what it wrote instead
/// of reading the row back): the PUT's body and ETag equal the next GET's, in every store, when created, replaced and
/// created again after a delete (whose version goes on from the history).
/// </summary>
public class WriteAnswerTests : ManagementFixture
{
    private static string NewKey() => "w_" + Guid.NewGuid().ToString("N")[..10];

    private static IEnumerable<TestCaseData> Stores()
    {
        yield return new TestCaseData("/api/config/", (object)new { value = 5, type = "number", description = "five", category = "general" }, (object)new { value = 6 }).SetName("system settings");
        yield return new TestCaseData("/api/config/env/", (object)new { value = "x" }, (object)new { value = "y", is_encrypted = true }).SetName("environment variables");
        yield return new TestCaseData("/api/agents/athena/config/", (object)new { value = true, type = "boolean" }, (object)new { value = false }).SetName("agent settings");
        yield return new TestCaseData("/api/configurations/system/", (object)new { value = "30", type = "number", description = "seconds" }, (object)new { value = 45 }).SetName("system configurations");
        yield return new TestCaseData("/api/configurations/tool/broca/", (object)new { value = "a" }, (object)new { value = "b", description = "" }).SetName("tool configurations");
    }

    [TestCaseSource(nameof(Stores))]
    public async Task APutAnswersWhatTheNextGetReads(string prefix, object create, object replace)
    {
        var path = prefix + (prefix.Contains("/env/") ? NewKey().ToUpperInvariant() : NewKey());
        await AssertAnswerIsStoredAsync(await Admin.PutAsJsonAsync(path, create), path, HttpStatusCode.Created);
        await AssertAnswerIsStoredAsync(await Admin.PutAsJsonAsync(path, replace), path, HttpStatusCode.OK);
        Assert.That((await Admin.DeleteAsync(path)).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        var again = await Admin.PutAsJsonAsync(path, create);
        await AssertAnswerIsStoredAsync(again, path, HttpStatusCode.Created);
        Assert.That(again.Headers.ETag?.Tag, Is.EqualTo("\"4\""), "versions go on after a delete: set, set, delete, set");
    }

    private async Task AssertAnswerIsStoredAsync(HttpResponseMessage put, string path, HttpStatusCode expected)
    {
        var answer = await put.Content.ReadAsStringAsync();
        Assert.That(put.StatusCode, Is.EqualTo(expected), answer);
        var get = await Admin.GetAsync(path);
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(answer, Is.EqualTo(await get.Content.ReadAsStringAsync()), "the write's answer is what is stored");
        Assert.That(put.Headers.ETag, Is.EqualTo(get.Headers.ETag));
    }
}
