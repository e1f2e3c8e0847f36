namespace Sanctum.Api.Tests;

public static class Support
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts a problem+json response with <paramref name="status"/> and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), text);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.That(body.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
        Assert.That(body.GetProperty("title").GetString(), Is.Not.Empty);
        return body;
    }

    public static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
