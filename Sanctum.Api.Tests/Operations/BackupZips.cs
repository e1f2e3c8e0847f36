using System.IO.Compression;
using System.Net.Http.Headers;

namespace Sanctum.Api.Tests.Operations;

/// <summary>Reading and rewriting backup archives, to tamper with them the way an attacker or a bad disk would.</summary>
public static class BackupZips
{
    public static Dictionary<string, byte[]> Entries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
    }

    public static byte[] Build(IEnumerable<KeyValuePair<string, byte[]>> entries, IReadOnlyDictionary<string, int>? unixModes = null)
    {
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                var entry = archive.CreateEntry(name);
                if (unixModes?.TryGetValue(name, out var mode) == true) entry.ExternalAttributes = mode << 16;
                using var stream = entry.Open();
                stream.Write(bytes);
            }
        }
        return output.ToArray();
    }

    /// <summary>
    /// Lists every file again in the manifest (size, SHA-256), as a forger would after changing one, and signs the
    /// manifest with <paramref name="key"/> (the server's: only the check under test is left to catch it), or leaves it
    /// unsigned when null.
    /// </summary>
    public static void Reseal(Dictionary<string, byte[]> entries, byte[]? key)
    {
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(entries["manifest.json"])!.AsObject();
        var files = new System.Text.Json.Nodes.JsonArray();
        foreach (var (name, bytes) in entries.Where(e => e.Key is not ("manifest.json" or "manifest.sig")))
            files.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = name, ["size"] = bytes.Length, ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            });
        manifest["files"] = files;
        entries["manifest.json"] = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        if (key is null) entries.Remove("manifest.sig");
        else entries["manifest.sig"] = Sanctum.Api.Backups.BackupArchive.Signature(entries["manifest.json"], key);
    }

    public static byte[] Rewrite(byte[] zip, Action<Dictionary<string, byte[]>> change)
    {
        var entries = Entries(zip);
        change(entries);
        return Build(entries);
    }

    public static JsonElement Manifest(byte[] zip) => JsonDocument.Parse(Entries(zip)["manifest.json"]).RootElement;

    public static ByteArrayContent Body(byte[] zip)
    {
        var content = new ByteArrayContent(zip);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return content;
    }

    public static async Task<string> CreateAsync(HttpClient admin)
    {
        var response = await admin.PostAsync("/api/backups", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.JsonAsync()).GetProperty("name").GetString()!;
    }
}
