using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>
/// Resolves the settings in force for an agent, a tool and a tool instance: for every key, the value of the most
/// specific place that sets it: system settings (system_config), system configurations, the agent's own settings
/// (agent_configs, what the chat-settings page writes), then agent, tool and instance configurations. An instance
/// implies its own tool and agent when those are not given.
/// </summary>
public static class EffectiveConfiguration
{
    private const string Sql = """
        SELECT key, value, type, is_encrypted, scope, scope_id, source FROM (
            SELECT key, value, type, is_encrypted, scope, scope_id, source,
                   ROW_NUMBER() OVER (PARTITION BY key ORDER BY rank DESC) AS position
            FROM (
                SELECT config_key AS key, config_value AS value, config_type AS type, is_encrypted,
                       'system' AS scope, NULL AS scope_id, 'system_config' AS source, 0 AS rank
                FROM system_config
                UNION ALL
                SELECT config_key, config_value, config_type, is_encrypted, 'agent', agent_id, 'agent_configs', 2
                FROM agent_configs WHERE agent_id = @agent
                UNION ALL
                SELECT key, value, type, is_encrypted, scope, scope_id, 'configurations',
                       CASE scope WHEN 'system' THEN 1 WHEN 'agent' THEN 3 WHEN 'tool' THEN 4 ELSE 5 END
                FROM configurations
                WHERE scope = 'system'
                   OR (scope = 'agent' AND scope_id = @agent)
                   OR (scope = 'tool' AND scope_id = @tool)
                   OR (scope = 'instance' AND scope_id = @instance)) AS candidates) AS ranked
        WHERE position = 1
        ORDER BY key
        """;

    public static async Task<Results<Ok<Dictionary<string, EffectiveValue>>, ValidationProblem, ProblemHttpResult>> GetAsync(
        DbConnection db, SettingsCore core, System.Security.Claims.ClaimsPrincipal user, string? agent = null, string? tool = null, string? instance = null)
    {
        // What the caller may not see reads as absent.
        var visible = new DynamicParameters(Agents.AgentVisibility.Parameters(user));
        visible.AddDynamicParams(new { agent, tool, instanceId = long.TryParse(instance, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0 });
        if (instance is not null && parsed > 0 && !await db.ExecuteScalarAsync<bool>($"SELECT {Agents.AgentVisibility.InstanceVisible("@instanceId")}", visible))
            return Problems.NotFound($"Tool instance {parsed}");
        if (agent is not null && !await db.ExecuteScalarAsync<bool>($"SELECT {Agents.AgentVisibility.Visible("@agent")}", visible)) return Problems.NotFound($"Agent '{agent}'");
        if (tool is not null && !await db.ExecuteScalarAsync<bool>($"SELECT {Agents.AgentVisibility.ToolVisible("@tool")} OR NOT EXISTS (SELECT 1 FROM tools WHERE id = @tool)", visible))
            return Problems.NotFound($"Tool '{tool}'");
        if (instance is not null)
        {
            if (!long.TryParse(instance, NumberStyles.None, CultureInfo.InvariantCulture, out var instanceId) || instanceId <= 0)
                return Problems.Invalid("instance", "The instance is a tool instance id (a positive integer).");
            var found = await db.QuerySingleOrDefaultAsync<InstanceOwner>(
                "SELECT tool_id, agent_id FROM tool_instances WHERE id = @instanceId", new { instanceId });
            if (found is null) return Problems.NotFound($"Tool instance {instanceId}");

            var errors = new Errors();
            if (tool is not null && tool != found.ToolId) errors.Add("tool", $"Tool instance {instanceId} belongs to tool '{found.ToolId}'.");
            if (agent is not null && found.AgentId is not null && agent != found.AgentId)
                errors.Add("agent", $"Tool instance {instanceId} belongs to agent '{found.AgentId}'.");
            if (errors.Any) return Problems.Invalid(errors);
            instance = instanceId.ToString(CultureInfo.InvariantCulture);
            tool ??= found.ToolId;
            agent ??= found.AgentId;
        }
        if (agent is not null && !await ConfigurationScopes.ExistsAsync(db, "agent", agent)) return Problems.NotFound($"Agent '{agent}'");
        if (tool is not null && !await ConfigurationScopes.ExistsAsync(db, "tool", tool)) return Problems.NotFound($"Tool '{tool}'");

        var effective = new Dictionary<string, EffectiveValue>(StringComparer.Ordinal);
        foreach (var row in await db.QueryAsync<Row>(Sql, new { agent, tool, instance }))
        {
            var stored = new StoredSetting
            {
                Key = row.Key, Value = row.Value, Type = row.Type, IsEncrypted = row.IsEncrypted, Scope = row.Scope, ScopeId = row.ScopeId,
                CreatedAt = "", UpdatedAt = "",
            };
            effective[row.Key] = new EffectiveValue
            {
                Value = core.Shown(stored), Type = row.Type, Scope = row.Scope, ScopeId = row.ScopeId, Source = row.Source,
            };
        }
        return TypedResults.Ok(effective);
    }

    private sealed record InstanceOwner
    {
        public required string ToolId { get; init; }
        public string? AgentId { get; init; }
    }

    private sealed record Row
    {
        public required string Key { get; init; }
        public string? Value { get; init; }
        public required string Type { get; init; }
        public required string Scope { get; init; }
        public string? ScopeId { get; init; }
        public bool IsEncrypted { get; init; }
        public required string Source { get; init; }
    }
}
