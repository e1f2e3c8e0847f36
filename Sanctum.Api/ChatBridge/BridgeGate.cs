using System.Security.Cryptography;
using Dapper;
using System.Data.Common;
using Sanctum.Api.Auth;

namespace Sanctum.Api.ChatBridge;

/// <summary>Who presented a bridge key: the global API key, the admin key, or one agent's own API key.</summary>
public sealed record BridgeCaller(BridgeKeyKind Kind, string? AgentId = null)
{
    /// <summary>Rate limits of keyed actions are counted per key.</summary>
    public string Partition => Kind == BridgeKeyKind.Agent ? $"key:agent:{AgentId}" : $"key:{Kind}";
}

public enum BridgeKeyKind { Api, Admin, Agent }

/// <summary>
/// The door of the keyed actions: the bearer key (system_config chat_api_key / chat_admin_key, or an agent's
/// agent_configs chat_api_key) checked against the digest stored beside its ciphertext (an HMAC under a key outside the
/// database: <see cref="Settings.SettingsCore.Digest"/>), in constant time, then
/// the action's rate limit. Nothing is decrypted per poll, and a key stored in plain text never opens anything.
/// </summary>
public sealed class BridgeGate(DbConnection db, BridgeRateLimits limits, BridgeRefusals refusals, Settings.SettingsCore settings)
{
    private const string Prefix = "Bearer ";

    private const string SystemKeysSql = """
        SELECT config_key AS name, value_digest AS digest FROM system_config
        WHERE config_key IN ('chat_api_key', 'chat_admin_key') AND is_encrypted = TRUE AND value_digest IS NOT NULL
        """;

    // Only active agents' keys open the inbox; a deactivated agent's relay stops with it.
    private const string AgentKeysSql = """
        SELECT c.agent_id AS name, c.value_digest AS digest FROM agent_configs c
        JOIN agents a ON a.id = c.agent_id
        WHERE c.config_key = 'chat_api_key' AND a.is_active = TRUE AND c.is_encrypted = TRUE AND c.value_digest IS NOT NULL
        ORDER BY c.agent_id
        """;

    /// <summary>
    /// The caller, or the refusal to send: 429 once the client address has spent its wrong keys (whatever key it sends
    /// then, so guessing is limited on every action) or the key has spent the action's limit; else 401 for a missing or
    /// wrong key. Refusals are counted into one audit row per address and minute (<see cref="BridgeRefusals"/>).
    /// </summary>
    public (BridgeCaller? Caller, IResult? Refusal) Admit(HttpContext http, string action, bool adminOnly)
    {
        var address = AuthSetup.ClientAddress(http);
        if (limits.KeyRefused(address) is { } blocked)
        {
            refusals.Count(address, action, "too many wrong keys");
            return (null, BridgeResults.RateLimited(http, blocked, "too many wrong keys from this address"));
        }
        var (caller, error) = Authenticate(http.Request, adminOnly);
        if (caller is null)
        {
            // Names the action and the reason, never the key that was presented.
            refusals.Count(address, action, error!);
            return (null, limits.WrongKey(address) is { } wait
                ? BridgeResults.RateLimited(http, wait, "too many wrong keys from this address")
                : BridgeResults.Error(StatusCodes.Status401Unauthorized, error!));
        }
        if (limits.Acquire(action, caller.Partition) is { } spent) return (null, BridgeResults.RateLimited(http, spent));
        return (caller, null);
    }

    private (BridgeCaller? Caller, string? Error) Authenticate(HttpRequest request, bool adminOnly)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(Prefix, StringComparison.Ordinal)) return (null, "Authentication required");
        var presented = header[Prefix.Length..].Trim();
        if (presented.Length == 0) return (null, "Authentication required");
        var digest = Convert.FromHexString(settings.Digest(presented));

        var system = db.Query<StoredKey>(SystemKeysSql).ToDictionary(k => k.Name, k => k.Digest);
        if (Matches(digest, system.GetValueOrDefault("chat_admin_key"))) return (new BridgeCaller(BridgeKeyKind.Admin), null);
        if (adminOnly) return (null, "Invalid admin key");
        if (Matches(digest, system.GetValueOrDefault("chat_api_key"))) return (new BridgeCaller(BridgeKeyKind.Api), null);
        foreach (var agentKey in db.Query<StoredKey>(AgentKeysSql))
            if (Matches(digest, agentKey.Digest)) return (new BridgeCaller(BridgeKeyKind.Agent, agentKey.Name), null);
        return (null, "Invalid API key");
    }

    // Equal-length digests, so the comparison takes the same time whatever the key's length or content.
    private static bool Matches(byte[] presented, string? stored) =>
        stored is { Length: 64 } && CryptographicOperations.FixedTimeEquals(presented, Convert.FromHexString(stored));

    private sealed record StoredKey
    {
        public required string Name { get; init; }
        public string? Digest { get; init; }
    }
}
