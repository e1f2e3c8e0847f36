using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// The Data Protection key ring in the database (table data_protection_keys, Phase 3), used on PostgreSQL so that
/// every instance reads the keys the others made: a secret written through one instance reads on all of them. Each
/// key is encrypted with <see cref="KeyRingEncryptor"/> before it is stored.
/// </summary>
public sealed class DatabaseXmlRepository(Database database) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var db = database.Open();
        return db.Query<string>("SELECT xml FROM data_protection_keys ORDER BY id").Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var db = database.Open();
        // Two instances making the first key at once each store their own; the ring keeps both (the newest is used).
        db.Execute("INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml) ON CONFLICT (friendly_name) DO NOTHING",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

/// <summary>
/// Encrypts each key of the ring with AES-256-GCM under <c>Sanctum:KeyRingKey</c> (32 random bytes, base64), a key
/// that lives in configuration, never in the database: a copy of the database alone decrypts no secret.
/// </summary>
public sealed class KeyRingEncryptor(byte[] key) : IXmlEncryptor
{
    public const string ElementName = "sanctumEncryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        var ciphertext = new byte[plaintext.Length];
        using (var aes = new AesGcm(key, tag.Length)) aes.Encrypt(nonce, plaintext, ciphertext, tag);
        var element = new XElement(ElementName, Convert.ToBase64String([.. nonce, .. tag, .. ciphertext]));
        return new EncryptedXmlInfo(element, typeof(KeyRingDecryptor));
    }
}

/// <summary>Decrypts what <see cref="KeyRingEncryptor"/> wrote (Data Protection creates it with the service provider).</summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var key = KeyRingKey.Parse(services.GetRequiredService<IOptions<SanctumOptions>>().Value.KeyRingKey, out var problem)
            ?? throw new CryptographicException(problem);
        var data = Convert.FromBase64String(encryptedElement.Value);
        var nonceSize = AesGcm.NonceByteSizes.MaxSize;
        var tagSize = AesGcm.TagByteSizes.MaxSize;
        var plaintext = new byte[data.Length - nonceSize - tagSize];
        using (var aes = new AesGcm(key, tagSize))
            aes.Decrypt(data.AsSpan(0, nonceSize), data.AsSpan(nonceSize + tagSize), data.AsSpan(nonceSize, tagSize), plaintext);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
