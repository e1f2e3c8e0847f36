using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Import;

/// <summary>
/// Old agents, keyed here by an id made from the name (old ids were numbers) and matched by their Letta uid. An agent
/// of this install with the same id and no Letta uid yet (Athena, Monday, Timbre as seeded) takes the old agent's details.
/// </summary>
public static class AgentImport
{
    public static void Run(ImportContext context)
    {
        var source = context.Source;
        var report = context.Report.Table("agents");
        var agents = source.Connection.Query<OldAgent>($"""
            SELECT id, {source.Text("agents", "name")}, {source.Text("agents", "letta_uid")}, {source.Text("agents", "description")},
                   {source.Text("agents", "status")}, {source.Integer("agents", "created_by")}, {source.Text("agents", "config")},
                   {source.Integer("agents", "is_active")}, {source.Text("agents", "visible_to_users")},
                   {source.Text("agents", "visible_to_roles")}, {source.Text("agents", "created_at")}, {source.Text("agents", "updated_at")}
            FROM agents ORDER BY id
            """);
        foreach (var old in agents)
        {
            var name = string.IsNullOrWhiteSpace(old.Name) ? $"Agent {old.Id}" : old.Name.Trim();
            var id = IdFrom(name, old.Id);
            var lettaUid = string.IsNullOrWhiteSpace(old.LettaUid) ? null : old.LettaUid.Trim();
            var row = new
            {
                id,
                name,
                description = old.Description,
                // The old status was a label typed by hand: here an agent's status is its relay's, as for any new agent.
                noRelay = RelayPresenceNoRelayYet,
                isActive = old.IsActive is not 0,
                visibleToUsers = UsersOf(old.VisibleToUsers, context, name),
                visibleToRoles = RolesOf(old.VisibleToRoles),
                createdBy = old.CreatedBy is { } by && context.UserIds.TryGetValue(by, out var user) ? user : (long?)null,
                lettaUid,
                config = ImportContext.Json(old.Config),
                createdAt = ImportContext.Time(old.CreatedAt, context.Now),
                updatedAt = ImportContext.Time(old.UpdatedAt, context.Now),
            };

            var existing = context.Target.Query<ExistingAgent>(
                "SELECT id, letta_uid FROM agents WHERE id = @id OR (@lettaUid IS NOT NULL AND letta_uid = @lettaUid)",
                new { id, lettaUid }, context.Transaction).ToList();
            if (existing.Count == 0)
            {
                context.Target.Execute("""
                    INSERT INTO agents (id, name, description, status, status_source, status_reason, status_since, is_active, visible_to_users, visible_to_roles, created_by, letta_uid, config, created_at, updated_at)
                    VALUES (@id, @name, @description, 'Off', 'relay', @noRelay, @updatedAt, @isActive, @visibleToUsers, @visibleToRoles, @createdBy, @lettaUid, @config, @createdAt, @updatedAt)
                    """, row, context.Transaction);
                report.Import();
            }
            else if (lettaUid is not null && existing.Any(e => e.LettaUid == lettaUid))
            {
                report.Skip("already imported (same Letta uid)", name);
            }
            else if (existing is [{ LettaUid: null } seeded] && seeded.Id == id)
            {
                context.Target.Execute("""
                    UPDATE agents SET name = @name, description = @description, is_active = @isActive,
                        visible_to_users = @visibleToUsers, visible_to_roles = @visibleToRoles, created_by = COALESCE(created_by, @createdBy),
                        letta_uid = @lettaUid, config = COALESCE(@config, config), updated_at = @updatedAt
                    WHERE id = @id
                    """, row, context.Transaction);
                report.Replace($"{id} (this install's agent of the same name takes the old one's details)");
            }
            else
            {
                report.Skip("an agent with this id already exists here", id);
            }
        }
    }

    /// <summary>The agent id this service uses (lower-case letters, digits and dashes) made from the old name.</summary>
    public static string IdFrom(string name, long oldId)
    {
        var id = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') id.Append(c);
            else if (id.Length > 0 && id[^1] != '-') id.Append('-');
        }
        var slug = id.ToString().Trim('-');
        if (slug.Length > 50) slug = slug[..50].TrimEnd('-');
        return FieldChecks.IsSlug(slug) ? slug : $"agent-{oldId}";
    }

    /// <summary>The old status was free text (active, inactive, error, Healthy ...); here it is one of four.</summary>
    private const string RelayPresenceNoRelayYet = Agents.RelayPresence.NoRelayYet;

    /// <summary>Old user ids mapped to this database's ids. An unreadable list lets only admins in rather than everyone.</summary>
    private static string? UsersOf(string? old, ImportContext context, string agent)
    {
        if (string.IsNullOrWhiteSpace(old) || old.Trim() == "null") return null;
        if (ImportContext.Json(old) is not { } json || JsonNode.Parse(json) is not JsonArray list)
        {
            context.Report.Notes.Add($"agent {agent}: visible_to_users was not a JSON list; only admins see it until it is set again.");
            return "[]";
        }
        var ids = new JsonArray();
        foreach (var item in list)
        {
            long? oldId = item?.GetValueKind() switch
            {
                JsonValueKind.Number when item.AsValue().TryGetValue<long>(out var n) => n,
                JsonValueKind.String when long.TryParse(item.GetValue<string>(), out var n) => n,
                _ => null,
            };
            if (oldId is { } o && context.UserIds.TryGetValue(o, out var mapped)) ids.Add(mapped);
            else context.Report.Notes.Add($"agent {agent}: visible_to_users names {item?.ToJsonString()}, a user not imported; left out.");
        }
        return ids.ToJsonString();
    }

    private static string? RolesOf(string? old)
    {
        if (string.IsNullOrWhiteSpace(old) || old.Trim() == "null") return null;
        if (ImportContext.Json(old) is not { } json || JsonNode.Parse(json) is not JsonArray list) return "[]";
        return new JsonArray(list.Where(r => r?.GetValueKind() == JsonValueKind.String).Select(r => (JsonNode?)r!.GetValue<string>()).ToArray()).ToJsonString();
    }

    private sealed class OldAgent
    {
        public long Id { get; init; }
        public string? Name { get; init; }
        public string? LettaUid { get; init; }
        public string? Description { get; init; }
        public string? Status { get; init; }
        public long? CreatedBy { get; init; }
        public string? Config { get; init; }
        public long? IsActive { get; init; }
        public string? VisibleToUsers { get; init; }
        public string? VisibleToRoles { get; init; }
        public string? CreatedAt { get; init; }
        public string? UpdatedAt { get; init; }
    }

    private sealed class ExistingAgent
    {
        public required string Id { get; init; }
        public string? LettaUid { get; init; }
    }
}
