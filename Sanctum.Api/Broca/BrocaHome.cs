using System.Data.Common;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Sanctum.Api.Agents;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Broca;

/// <summary>
/// Where an agent's Broca lives: the <c>home</c> folder in the config of the agent's instance of the <c>broca</c> tool.
/// Nothing else is assumed about paths.
/// </summary>
public static class BrocaHome
{
    public const string ToolId = "broca";
    public const string SettingsFile = "settings.json", EnvFile = ".env", DatabaseFile = "sanctum.db", LogsFolder = "logs";
    public const int MaxHome = 1000;

    /// <summary>The config_schema of the broca tool (seeded by the Phase 3 migration).</summary>
    public const string ConfigSchema = """
        {"type":"object","properties":{"home":{"type":"string","minLength":1,"maxLength":1000,"description":"The Broca instance folder: it holds settings.json or sanctum.db"}},"required":["home"]}
        """;

    /// <summary>Why <paramref name="home"/> is not a Broca folder, or null when it is one.</summary>
    public static string? Problem(string? home)
    {
        if (string.IsNullOrWhiteSpace(home)) return "Required: the Broca instance folder (an absolute path).";
        if (home.Length > MaxHome || home.Contains('\0')) return $"Must be an absolute path of at most {MaxHome} characters.";
        if (!Path.IsPathFullyQualified(home)) return "Must be an absolute path.";
        if (!Directory.Exists(home)) return $"No folder at {home}.";
        if (!File.Exists(Path.Combine(home, SettingsFile)) && !File.Exists(Path.Combine(home, DatabaseFile)))
            return $"{home} holds no Broca: neither {SettingsFile} nor {DatabaseFile} is there.";
        return null;
    }

    /// <summary>Checks the config of a write to a broca instance: errors keyed config/home (and agent_id, which a Broca serves).</summary>
    public static void Check(JsonElement? config, string? agentId, bool creating, Errors errors)
    {
        if (creating && agentId is null) errors.Add("agent_id", "A Broca instance serves one agent: name it.");
        if (config is not { ValueKind: JsonValueKind.Object } c)
        {
            if (creating) errors.Add("config/home", Problem(null)!);
            return;
        }
        var home = c.TryGetProperty("home", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
        if (Problem(home) is { } problem) errors.Add("config/home", problem);
    }

    /// <summary>The home of the agent's active Broca instance, when the caller sees the agent.</summary>
    public static async Task<AgentHome> FindAsync(DbConnection db, string agentId, ClaimsPrincipal user)
    {
        var visible = AgentVisibility.Parameters(user, agentId);
        if (!FieldChecks.IsSlug(agentId) || !await db.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM agents WHERE {AgentVisibility.ById})", visible))
            return new AgentHome(agentId, null, HomeState.NoAgent);
        var config = await db.QueryFirstOrDefaultAsync<string>(
            "SELECT config FROM tool_instances WHERE tool_id = @tool AND agent_id = @id AND is_active = TRUE ORDER BY id",
            new { tool = ToolId, id = agentId });
        var home = HomeOf(config);
        if (home is null) return new AgentHome(agentId, null, HomeState.NoInstance);
        return new AgentHome(agentId, home, Directory.Exists(home) ? HomeState.Found : HomeState.FolderGone);
    }

    /// <summary>Every active Broca instance's agent and home, in agent order (agents the caller sees).</summary>
    public static async Task<List<AgentHome>> AllAsync(DbConnection db, ClaimsPrincipal user)
    {
        var rows = await db.QueryAsync<(string AgentId, string? Config)>($"""
            SELECT i.agent_id, i.config FROM tool_instances i JOIN agents a ON a.id = i.agent_id
            WHERE i.tool_id = @tool AND i.is_active = TRUE AND {AgentVisibility.Visible("i.agent_id")}
            ORDER BY i.agent_id, i.id
            """, new DynamicParameters(AgentVisibility.Parameters(user)).With("tool", ToolId));
        return rows.DistinctBy(r => r.AgentId).Select(r => HomeOf(r.Config) is { } home ? new AgentHome(r.AgentId, home, HomeState.Found) : null)
            .OfType<AgentHome>().ToList();
    }

    public static string? HomeOf(string? config)
    {
        if (config is null) return null;
        try
        {
            return JsonNode.Parse(config) is JsonObject o && o["home"] is JsonValue v && v.TryGetValue<string>(out var home) && home.Length > 0 ? home : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static DynamicParameters With(this DynamicParameters parameters, string name, object value)
    {
        parameters.Add(name, value);
        return parameters;
    }
}

public enum HomeState { Found, NoAgent, NoInstance, FolderGone }

/// <summary>An agent and the folder of its Broca.</summary>
public sealed record AgentHome(string AgentId, string? Home, HomeState State)
{
    public string File(string name) => Path.Combine(Home!, name);
}
