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

    public static byte[] Build(IEnumerable<KeyValuePair<string, byte[]>> entries)
    {
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(bytes);
            }
        }
        return output.ToArray();
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
