using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Audit;

/// <summary>
/// The keys that make records trustworthy: the audit chain's MAC key, the backup manifests' signing key and the bridge
/// keys' digest key, each an
/// HKDF of one root secret that is never in the database and never in a backup.
/// <list type="bullet">
/// <item>With <c>Sanctum:KeyRingKey</c> set (required on PostgreSQL, optional on SQLite) the root is that key: it lives
/// in configuration only, so neither a copy of the database nor a backup can forge a row or a manifest.</item>
/// <item>Otherwise (SQLite) the root is 32 random bytes in <c>&lt;DataDirectory&gt;/record.key</c>, protected by the
/// Data Protection ring: beside the database file, not inside it, and not in backups (which carry <c>sanctum.db</c>
/// and <c>keys/*.xml</c> only), so rewriting the file's rows or carrying a zip elsewhere does not carry the key.</item>
/// </list>
/// </summary>
public sealed class RecordKeys(Database database, IOptions<SanctumOptions> options, IDataProtectionProvider protection)
{
    public const string FileName = "record.key";
    private readonly Lazy<byte[]> _root = new(() => LoadRoot(database, options.Value, protection));

    /// <summary>Where the root lives, for messages: the setting or the file.</summary>
    public string Source => KeyRingKey.Parse(options.Value.KeyRingKey, out _) is not null
        ? "Sanctum:KeyRingKey" : Path.Combine(database.DataDirectory, FileName);

    public byte[] AuditKey => Derive("sanctum audit chain v1");

    public byte[] BackupKey => Derive("sanctum backup manifest v1");

    /// <summary>The key of the chat bridge keys' stored digests (an HMAC, so a stolen database cannot test guesses offline).</summary>
    public byte[] BridgeKeyDigestKey => Derive("sanctum bridge key digest v1");

    private byte[] Derive(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _root.Value, 32, salt: [], info: Encoding.UTF8.GetBytes(purpose));

    private static byte[] LoadRoot(Database database, SanctumOptions options, IDataProtectionProvider protection)
    {
        if (KeyRingKey.Parse(options.KeyRingKey, out _) is { } configured) return configured;
        var protector = protection.CreateProtector("Sanctum.RecordKey.v1");
        var path = Path.Combine(database.DataDirectory, FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(database.DataDirectory);
            // Written aside and moved in, so a second process (the CLI beside the server) never reads half a file.
            var aside = path + "." + Guid.NewGuid().ToString("N");
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(aside, create))
            {
                file.Write(protector.Protect(RandomNumberGenerator.GetBytes(32)));
                file.Flush(flushToDisk: true);
            }
            try { File.Move(aside, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(aside); }
        }
        try
        {
            return protector.Unprotect(File.ReadAllBytes(path));
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"{path} cannot be read with this key ring ({e.Message}): restore the data directory's keys folder, or set Sanctum:KeyRingKey.", e);
        }
    }
}
