using System.Data.Common;
using Dapper;

namespace Sanctum.Api.Settings;

/// <summary>
/// The digests the settings core keeps beside the chat bridge's bearer keys (<see cref="SettingsCore.BearerKeys"/> in
/// system_config, each agent's chat_api_key in agent_configs), for the bridge's key check. Only encrypted keys with a
/// digest count, so a key stored in plain text never opens anything.
/// </summary>
public static class BearerKeyDigests
{
    private const string SystemSql = """
        SELECT config_key AS name, value_digest AS digest FROM system_config
        WHERE config_key IN ('chat_api_key', 'chat_admin_key') AND is_encrypted = TRUE AND value_digest IS NOT NULL
        """;

    // Only active agents' keys open the inbox; a deactivated agent's relay stops with it.
    private const string AgentSql = """
        SELECT c.agent_id AS name, c.value_digest AS digest FROM agent_configs c
        JOIN agents a ON a.id = c.agent_id
        WHERE c.config_key = 'chat_api_key' AND a.is_active = TRUE AND c.is_encrypted = TRUE AND c.value_digest IS NOT NULL
        ORDER BY c.agent_id
        """;

    /// <summary>chat_api_key and chat_admin_key by name, each with its digest (absent when unset or not encrypted).</summary>
    public static async Task<Dictionary<string, string?>> SystemAsync(DbConnection db) =>
        (await db.QueryAsync<(string Name, string? Digest)>(SystemSql)).ToDictionary(k => k.Name, k => k.Digest);

    /// <summary>Each active agent's own chat_api_key digest, by agent id.</summary>
    public static async Task<IEnumerable<(string AgentId, string? Digest)>> AgentsAsync(DbConnection db) =>
        await db.QueryAsync<(string AgentId, string? Digest)>(AgentSql);
}
