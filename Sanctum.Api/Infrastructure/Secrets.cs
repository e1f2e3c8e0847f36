using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Logging.Abstractions;
using Sanctum.Api.Data;

namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Encryption at rest for stored secrets (configuration values marked is_encrypted, two-factor secrets, alert channel
/// and peer credentials), with ASP.NET Core Data Protection whose keys live in the data directory. The plaintext exists only in memory and, for an admin's reveal, in a response.
/// </summary>
public sealed class Secrets(IDataProtectionProvider provider)
{
    public const string Mask = "********";

    private readonly IDataProtector _protector = provider.CreateProtector("Sanctum.Config.v1");

    public string? Protect(string? plaintext) => string.IsNullOrEmpty(plaintext) ? plaintext : _protector.Protect(plaintext);

    public string? Unprotect(string? stored)
    {
        if (string.IsNullOrEmpty(stored)) return stored;
        try
        {
            return _protector.Unprotect(stored);
        }
        catch (CryptographicException)
        {
            // Written with keys this install no longer has: the caller reports it as unreadable (and logs the key's name).
            return null;
        }
    }

    /// <summary>A fresh random key for the chat bridge: 256 bits, URL-safe.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public static class SecretsSetup
{
    /// <summary>Where the Data Protection key ring lives (backups carry it: without it the secrets cannot be read).</summary>
    public static string KeyRingDirectory(string dataDirectory) => Path.Combine(dataDirectory, "keys");

    public static IServiceCollection AddSanctumSecrets(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Sanctum.Api");
        // On SQLite the key ring sits under the data directory, read from options so each test host gets its own. On
        // PostgreSQL it is in the database, for every instance, encrypted with Sanctum:KeyRingKey (StartupChecks
        // refuses to start without one).
        services.AddOptions<KeyManagementOptions>().Configure<Database, Microsoft.Extensions.Options.IOptions<SanctumOptions>>((o, db, options) =>
        {
            if (db.IsSqlite)
            {
                o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(KeyRingDirectory(db.DataDirectory)), NullLoggerFactory.Instance);
                return;
            }
            o.XmlRepository = new DatabaseXmlRepository(db);
            if (KeyRingKey.Parse(options.Value.KeyRingKey, out _) is { } key) o.XmlEncryptor = new KeyRingEncryptor(key);
        });
        services.AddSingleton<Secrets>();
        return services;
    }
}
