using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Sanctum.Api.Data;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

/// <summary>
/// The seeded admin's first password. With <c>Sanctum:BootstrapAdminPassword</c> the migration uses it. Without, the
/// migration stores a placeholder no password matches, and once the server listens this sets the password: admin123
/// when every address is loopback (or there is none, as under a test server) and neither trusted proxies nor a public
/// origin are configured, else a random one-time password written
/// to <c>&lt;DataDirectory&gt;/initial-admin-password</c> (owner-only), whose path (never the password) is logged.
/// Either way the password must be changed at the first sign-in, which removes the file.
/// </summary>
public sealed partial class BootstrapAdmin(
    Database database, IServer server, PasswordHasher hasher, Microsoft.Extensions.Options.IOptions<SanctumOptions> options, ILogger<BootstrapAdmin> logger)
{
    /// <summary>Not a bcrypt hash, so no password verifies against it.</summary>
    public const string PendingHash = "!pending-first-start";
    public const string LoopbackPassword = "admin123";
    public const string FileName = "initial-admin-password";

    public string PasswordFile => Path.Combine(database.DataDirectory, FileName);

    /// <summary>The hash the migration seeds: the configured bootstrap password's, else the placeholder.</summary>
    public static string SeedHash(SanctumOptions o) => string.IsNullOrEmpty(o.BootstrapAdminPassword)
        ? PendingHash
        : BCrypt.Net.BCrypt.HashPassword(o.BootstrapAdminPassword, o.PasswordWorkFactor);

    private Task<Candidates>? _hashing;
    private Candidates? _prepared;

    /// <summary>The first passwords' hashes; the random one's is null when every configured address is loopback.</summary>
    private sealed record Candidates(string LoopbackHash, string Random, string? RandomHash);

    /// <summary>
    /// Before the migrations, on a fresh SQLite install (no database file yet): starts hashing the candidate passwords
    /// in the background, so bcrypt runs beside the migrations instead of after them; only admin123's when every
    /// configured address (<c>urls</c>) is loopback. A server database's freshness is unknown before it is read, so
    /// there <see cref="Prepare"/> hashes only when the seed left the placeholder.
    /// </summary>
    public void StartEarly(string? configuredUrls)
    {
        if (database.FilePath is null || File.Exists(database.FilePath)) return;
        var urls = (configuredUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _hashing = HashCandidatesAsync(loopbackOnly: urls.Length > 0 && urls.All(IsLoopback) && !ReachableFromElsewhere(options.Value));
    }

    /// <summary>
    /// Before the server starts: when the seed left the placeholder, has the candidate passwords hashed (bcrypt is
    /// slow; both run in parallel), so that once the server listens <see cref="Complete"/> only has to store one.
    /// </summary>
    public void Prepare()
    {
        using var db = database.Open();
        if (!db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM users WHERE password_hash = @pending)", new { pending = PendingHash })) return;
        _prepared = (_hashing ?? HashCandidatesAsync(loopbackOnly: false)).GetAwaiter().GetResult();
    }

    private Task<Candidates> HashCandidatesAsync(bool loopbackOnly)
    {
        var random = UserRules.TemporaryPassword();
        var loopback = Task.Run(() => hasher.Hash(LoopbackPassword));
        var randomHash = loopbackOnly ? Task.FromResult<string?>(null) : Task.Run<string?>(() => hasher.Hash(random));
        return Task.Run(async () => new Candidates(await loopback, random, await randomHash));
    }

    /// <summary>Sets the first password if the seed left the placeholder (called once the server listens).</summary>
    public void Complete()
    {
        if (_prepared is not { } prepared) return;
        _prepared = null;
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var local = addresses.All(IsLoopback) && !ReachableFromElsewhere(options.Value);
        if (!local) WriteOwnerOnly(PasswordFile, prepared.Random + "\n");
        var hash = local ? prepared.LoopbackHash : prepared.RandomHash ?? hasher.Hash(prepared.Random);
        using var db = database.Open();
        db.Execute("UPDATE users SET password_hash = @hash, must_change_password = TRUE WHERE password_hash = @pending",
            new { hash, pending = PendingHash });
        if (local) LogLoopback(logger);
        else LogWritten(logger, PasswordFile, string.Join(", ", addresses));
    }

    /// <summary>Removes the one-time password file once the admin has chosen a password.</summary>
    public void ForgetInitialPassword(string username)
    {
        if (username != "admin" || !File.Exists(PasswordFile)) return;
        File.Delete(PasswordFile);
        LogRemoved(logger, PasswordFile);
    }

    /// <summary>
    /// Trusted proxies or a public origin mean clients come from elsewhere even when the server itself listens on
    /// loopback only (behind a reverse proxy): then the first password is the one-time one, never admin123.
    /// </summary>
    public static bool ReachableFromElsewhere(SanctumOptions o) =>
        !string.IsNullOrWhiteSpace(o.TrustedProxies)
        || PublicOrigins.Entries(o.PublicOrigins).Any(origin => !IsLoopback(origin));

    public static bool IsLoopback(string address)
    {
        // "http://+:80", "http://*:80" and "http://0.0.0.0:80" do not parse as a loopback host: all count as public.
        var host = BindingAddress(address);
        if (host is null) return false;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);
    }

    private static string? BindingAddress(string address)
    {
        var rest = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        var end = rest.StartsWith('[') ? rest.IndexOf(']') + 1 : rest.IndexOfAny([':', '/']);
        var host = end <= 0 ? rest : rest[..end];
        return host.Length == 0 ? null : host;
    }

    private static void WriteOwnerOnly(string path, string text)
    {
        var file = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, file))
        using (var writer = new StreamWriter(stream)) writer.Write(text);
        // An existing file keeps its mode on FileMode.Create: set it either way.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning,
        Message = "First start on a public address ({Addresses}): the admin's one-time password is in {Path} (readable by this user only); sign in as admin and change it")]
    private static partial void LogWritten(ILogger logger, string path, string addresses);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Warning,
        Message = "First start on loopback only: sign in as admin with the documented default password (README) and change it")]
    private static partial void LogLoopback(ILogger logger);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "Removed the one-time admin password file {Path}")]
    private static partial void LogRemoved(ILogger logger, string path);
}
