using System.Data.Common;
using System.Text;
using Dapper;
using Fido2NetLib;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.Auth;

/// <summary>
/// The SQL and the relying party of passkeys: user_passkeys (public key and signature counter per credential) and
/// passkey_ceremonies (the options of a registration or sign-in in progress, kept here so a client cannot choose its
/// own challenge; each is used once and expires after <see cref="CeremonyLifetime"/>).
/// </summary>
public static class PasskeyStore
{
    public static readonly TimeSpan CeremonyLifetime = TimeSpan.FromMinutes(5);
    public const int MaxName = 100;
    public const int MaxPerUser = 20;

    public const string Register = "register";
    public const string SignIn = "sign_in";

    public const string Columns = "id, name, created_at, last_used_at";

    public sealed record PasskeyRow
    {
        public long Id { get; init; }
        public long UserId { get; init; }
        public required string CredentialId { get; init; }
        public required string PublicKey { get; init; }
        public long SignCount { get; init; }
    }

    public sealed record Ceremony
    {
        public long? UserId { get; init; }
        public string? LoginChallenge { get; init; }
        public required string Options { get; init; }
    }

    /// <summary>
    /// The relying party: its id is the host of the first configured public origin (localhost by default), and the
    /// origins a response may come from are the public origins, never the request's Host.
    /// </summary>
    public static Fido2 RelyingParty(PublicOrigins origins, IOptions<SanctumOptions> options)
    {
        var first = PublicOrigins.Entries(options.Value.PublicOrigins).Select(PublicOrigins.Normalize).OfType<string>().FirstOrDefault();
        var host = first is null ? "localhost" : new Uri(first).Host;
        return new Fido2(new Fido2Configuration
        {
            RPID = host,
            RPName = options.Value.TwoFactor.Issuer,
            Origins = origins.All.Where(o => new Uri(o).Host == host || new Uri(o).Host.EndsWith("." + host, StringComparison.Ordinal)).ToHashSet(),
        });
    }

    public static string ToBase64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
    public static byte[] FromBase64Url(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);

    /// <summary>The user handle given to authenticators: the user's id, nothing personal.</summary>
    public static byte[] UserHandle(long userId) => Encoding.ASCII.GetBytes(userId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static long? UserIdOfHandle(byte[]? handle) =>
        handle is { Length: > 0 and < 20 } && long.TryParse(Encoding.ASCII.GetString(handle), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;

    public static Task<long> CountAsync(DbConnection db, long userId) =>
        db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM user_passkeys WHERE user_id = @userId", new { userId });

    public static Task<IEnumerable<string>> CredentialIdsAsync(DbConnection db, long userId) =>
        db.QueryAsync<string>("SELECT credential_id FROM user_passkeys WHERE user_id = @userId", new { userId });

    public static Task<PasskeyRow?> FindByCredentialAsync(DbConnection db, string credentialId) =>
        db.QuerySingleOrDefaultAsync<PasskeyRow>(
            "SELECT id, user_id, credential_id, public_key, sign_count FROM user_passkeys WHERE credential_id = @credentialId", new { credentialId });

    /// <summary>Starts a ceremony and returns the handle the client sends back with the authenticator's response.</summary>
    public static async Task<string> StartCeremonyAsync(DbConnection db, string purpose, long? userId, string? loginChallenge, string options, DateTimeOffset now)
    {
        var handle = SessionTokens.NewToken();
        await db.ExecuteAsync("DELETE FROM passkey_ceremonies WHERE expires_at <= @now", new { now = Timestamp.From(now) });
        await db.ExecuteAsync("""
            INSERT INTO passkey_ceremonies (id, purpose, user_id, login_challenge, options, expires_at)
            VALUES (@id, @purpose, @userId, @loginChallenge, @options, @expires)
            """, new { id = SessionTokens.Hash(handle), purpose, userId, loginChallenge, options, expires = Timestamp.From(now + CeremonyLifetime) });
        return handle;
    }

    /// <summary>Takes the ceremony (it is gone afterwards, whatever the outcome); null when unknown, expired or for something else.</summary>
    public static Task<Ceremony?> TakeCeremonyAsync(DbConnection db, string handle, string purpose, DateTimeOffset now) =>
        db.QuerySingleOrDefaultAsync<Ceremony>("""
            DELETE FROM passkey_ceremonies WHERE id = @id AND purpose = @purpose AND expires_at > @now
            RETURNING user_id, login_challenge, options
            """, new { id = SessionTokens.Hash(handle), purpose, now = Timestamp.From(now) });

    /// <summary>Records a use: the counter moves only from the value that was checked, so a replay racing it loses.</summary>
    public static async Task<bool> RecordUseAsync(DbConnection db, PasskeyRow row, uint signCount, DateTimeOffset now) =>
        await db.ExecuteAsync("UPDATE user_passkeys SET sign_count = @signCount, last_used_at = @now WHERE id = @id AND sign_count = @old",
            new { id = row.Id, signCount = (long)signCount, old = row.SignCount, now = Timestamp.From(now) }) == 1;

    /// <summary>Removes every passkey of the user (an admin's reset); the number removed.</summary>
    public static Task<int> RemoveAllAsync(DbConnection db, long userId) =>
        db.ExecuteAsync("DELETE FROM user_passkeys WHERE user_id = @userId", new { userId });
}
