using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Logging.Abstractions;
using Sanctum.Api.Data;

namespace Sanctum.Api.Config;

/// <summary>
/// Encryption at rest for configuration values marked is_encrypted, with ASP.NET Core Data Protection whose
/// keys live in the data directory. The plaintext exists only in memory and, for an admin's reveal, in a response.
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
            // Written with keys this install no longer has: treat as unreadable rather than failing the request.
            return null;
        }
    }

    /// <summary>What a response shows of a secret: "" when none is set, else the mask.</summary>
    public static string MaskOf(string? stored) => string.IsNullOrEmpty(stored) ? "" : Mask;

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
        // The key ring sits under the data directory, read from options so each test host gets its own.
        services.AddOptions<KeyManagementOptions>().Configure<Database>((o, db) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(KeyRingDirectory(db.DataDirectory)), NullLoggerFactory.Instance));
        services.AddSingleton<Secrets>();
        return services;
    }

    /// <summary>Gives each chat bridge key a random value on first start (the migration leaves them empty).</summary>
    public static void EnsureChatKeys(this IServiceProvider services)
    {
        var secrets = services.GetRequiredService<Secrets>();
        using var db = services.GetRequiredService<Database>().Open();
        foreach (var key in new[] { "chat_api_key", "chat_admin_key" })
        {
            db.Execute("""
                UPDATE system_config SET config_value = @value, is_encrypted = 1, updated_at = @now
                WHERE config_key = @key AND (config_value IS NULL OR config_value = '')
                """,
                new { key, value = secrets.Protect(Secrets.NewKey()), now = Timestamp.Now(TimeProvider.System) });
        }
    }
}
