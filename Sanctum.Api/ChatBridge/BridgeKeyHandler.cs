using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.ChatBridge;

/// <summary>Who presented a bridge key: the global API key, the admin key, or one agent's own API key.</summary>
public sealed record BridgeCaller(BridgeKeyKind Kind, string? AgentId = null)
{
    /// <summary>Rate limits of keyed actions are counted per key.</summary>
    public string Partition => Kind == BridgeKeyKind.Agent ? $"key:agent:{AgentId}" : $"key:{Kind}";

    /// <summary>The caller the <see cref="BridgeKeyHandler"/> signed in.</summary>
    public static BridgeCaller Of(ClaimsPrincipal user) =>
        new(Enum.Parse<BridgeKeyKind>(user.FindFirstValue(BridgeKeyHandler.KindClaim)!), user.FindFirstValue(BridgeKeyHandler.AgentClaim));
}

public enum BridgeKeyKind { Api, Admin, Agent }

/// <summary>
/// The door of the keyed actions, an authentication scheme: the bearer key (system_config chat_api_key /
/// chat_admin_key, or an agent's agent_configs chat_api_key) checked against the digest stored beside its ciphertext
/// (<see cref="Settings.BearerKeyDigests"/>; an HMAC under a key outside the database: <see cref="Settings.SettingsCore.Digest"/>), in constant time. Nothing is
/// decrypted per poll, and a key stored in plain text never opens anything. The policies <see cref="RelayPolicy"/> and
/// <see cref="AdminPolicy"/> ask for it; a refusal is answered in the bridge's envelope: 429 once the client address
/// has spent its wrong keys (whatever key it sends then, so guessing is limited on every action), else 401. Refusals
/// are counted into one audit row per address and minute (<see cref="BridgeRefusals"/>).
/// </summary>
public sealed class BridgeKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    System.Data.Common.DbConnection db, BridgeRateLimits limits, BridgeRefusals refusals, Settings.SettingsCore settings)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "BridgeKey";
    public const string RelayPolicy = "bridge-relay", AdminPolicy = "bridge-admin";
    public const string KindClaim = "bridge_key_kind", AgentClaim = "bridge_agent_id";
    private const string Prefix = "Bearer ";

    /// <summary>The key schemes the OpenAPI document names for an endpoint that requires a bridge policy; null for any other.</summary>
    public static RequiresKey? Keys(IEnumerable<IAuthorizeData> authorization) =>
        authorization.Select(a => a.Policy).LastOrDefault(p => p is RelayPolicy or AdminPolicy) switch
        {
            RelayPolicy => new([Credentials.BridgeKey, Credentials.BridgeAdminKey]),
            AdminPolicy => new([Credentials.BridgeAdminKey]),
            _ => null,
        };

    private int? _blockedFor;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Once the address has spent its wrong keys, no key from it is even looked at: a right guess looks like a wrong one.
        if (limits.KeyRefused(Caller.Address(Context)) is { } blocked)
        {
            _blockedFor = blocked;
            return AuthenticateResult.Fail("too many wrong keys");
        }
        if (Presented() is not { } presented) return AuthenticateResult.NoResult();
        var digest = Convert.FromHexString(settings.Digest(presented));

        var system = await Settings.BearerKeyDigests.SystemAsync(db);
        var caller = Matches(digest, system.GetValueOrDefault("chat_admin_key")) ? new BridgeCaller(BridgeKeyKind.Admin)
            : Matches(digest, system.GetValueOrDefault("chat_api_key")) ? new BridgeCaller(BridgeKeyKind.Api)
            // The admin actions take the admin key alone: no agent's key is looked up for them.
            : !AdminOnly && (await Settings.BearerKeyDigests.AgentsAsync(db)).FirstOrDefault(k => Matches(digest, k.Digest)) is { AgentId: { } agent }
                ? new BridgeCaller(BridgeKeyKind.Agent, agent) : null;
        if (caller is null) return AuthenticateResult.Fail("wrong key");
        List<Claim> claims = [new(KindClaim, caller.Kind.ToString())];
        if (caller.AgentId is not null) claims.Add(new(AgentClaim, caller.AgentId));
        // An identity without an authentication type: a key is not a user, and what records users (the settings history,
        // the audit log) must not take it for one. The policies ask for the kind claim only.
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims)), SchemeName));
    }

    /// <summary>No key, or a wrong one.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        RefuseAsync(Presented() is null ? "Authentication required" : AdminOnly ? "Invalid admin key" : "Invalid API key");

    /// <summary>A relay's key on an admin action.</summary>
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => RefuseAsync("Invalid admin key");

    private Task RefuseAsync(string error)
    {
        var address = Caller.Address(Context);
        // Names the action and the reason, never the key that was presented.
        var action = Request.Path.Value![(Request.Path.Value!.LastIndexOf('/') + 1)..];
        if (_blockedFor is { } blocked)
        {
            refusals.Count(address, action, "too many wrong keys");
            return BridgeResults.RateLimited(Context, blocked, "too many wrong keys from this address").ExecuteAsync(Context);
        }
        refusals.Count(address, action, error);
        return (limits.WrongKey(address) is { } wait
            ? BridgeResults.RateLimited(Context, wait, "too many wrong keys from this address")
            : BridgeResults.Error(StatusCodes.Status401Unauthorized, error)).ExecuteAsync(Context);
    }

    private string? Presented() =>
        Request.Headers.Authorization.ToString() is var header && header.StartsWith(Prefix, StringComparison.Ordinal)
            && header[Prefix.Length..].Trim() is { Length: > 0 } key ? key : null;

    private bool AdminOnly => Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AdminPolicy) == true;

    // Equal-length digests, so the comparison takes the same time whatever the key's length or content.
    private static bool Matches(byte[] presented, string? stored) =>
        stored is { Length: 64 } && CryptographicOperations.FixedTimeEquals(presented, Convert.FromHexString(stored));
}
