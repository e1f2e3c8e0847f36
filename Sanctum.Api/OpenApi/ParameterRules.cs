using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Sanctum.Api.Settings;
using Sanctum.Api.Users;
using Swashbuckle.AspNetCore.SwaggerGen;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.OpenApi;

/// <summary>
/// The rules of path and query parameters, by name: what the handlers accept (a value outside them is refused with
/// 400, or finds nothing: 404). Integers are never negative and ids start at 1 (<see cref="SchemaRules.Integers"/>).
/// </summary>
public sealed class ParameterRules : IOperationFilter
{
    private const string WholeNumber = "^[+-]?[0-9]{1,10}$";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = "/" + context.ApiDescription.RelativePath;
        var page = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<PageLimit>().LastOrDefault();
        // Handlers that read a route value from HttpContext do not declare it, but the path has it all the same.
        operation.Parameters ??= [];
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(path, @"\{(\w+)(:[^}]*)?\}"))
            if (!operation.Parameters.Any(p => p.In == ParameterLocation.Path && p.Name == m.Groups[1].Value))
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = m.Groups[1].Value, In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is not OpenApiParameter { Schema: OpenApiSchema s, Name: { } name }) continue;
            if (name == "limit" && s.Type == JsonSchemaType.Integer && page is not null)
                (s.Minimum, s.Maximum) = ("1", page.MaxLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (name == "hours" && s.Type == JsonSchemaType.Integer)
                (s.Minimum, s.Maximum) = ("1", Status.StatusHistoryApi.MaxHours.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // A rule declared on the handler's parameter (which the framework's validation enforces) is the schema's.
            if (Declared(context, name) is { } declared)
            {
                if (declared.GetCustomAttribute<OneOfAttribute>() is { } oneOf) s.Enum = oneOf.Nodes();
                if (declared.GetCustomAttribute<Infrastructure.TextAttribute>() is { } text && SchemaRules.IsString(s)) s.MaxLength ??= text.Length;
            }
            var bridge = ChatBridge.ChatBridgeApi.Owns(path);
            SchemaRules.Integers(s, SchemaRules.IsId(name) || name is "instanceId" or "pluginId");
            if (!SchemaRules.IsString(s) || s.MaxLength is not null || s.Enum is { Count: > 0 }) continue;
            switch (name)
            {
                case "file" when path.Contains("/broca/history", StringComparison.Ordinal): s.Enum = Values(["settings", "env"]); break;
                case "file" when path.Contains("/broca/logs", StringComparison.Ordinal): SchemaRules.Text(s, Broca.BrocaLogsApi.MaxFileName, Broca.BrocaLogsApi.FileNamePattern); break;
                case "platform" when path.StartsWith("/api/broca", StringComparison.Ordinal): SchemaRules.Text(s, Broca.BrocaUsersApi.MaxText); break;
                case "cursor" when path.StartsWith("/api/broca", StringComparison.Ordinal): SchemaRules.Text(s, Broca.BrocaUsersApi.MaxText); break;
                case "topics" when path.StartsWith("/api/events", StringComparison.Ordinal): SchemaRules.Text(s, 2000); break;
                case "name" when path.StartsWith("/api/backups", StringComparison.Ordinal):
                    SchemaRules.Text(s, Backups.BackupStore.MaxName, Backups.BackupStore.NamePattern); break;
                case "id" when path.StartsWith("/api/chat/sessions", StringComparison.Ordinal):
                    SchemaRules.Text(s, ChatBridge.BridgeInput.MaxSessionIdLength, ChatBridge.BridgeInput.SessionIdPattern); break;
                case "after" or "letta_id" when path.StartsWith("/api/letta", StringComparison.Ordinal): SchemaRules.Text(s, Letta.LettaIds.MaxId, Letta.LettaIds.IdPattern); break;
                case "label" when path.Contains("/letta/blocks/", StringComparison.Ordinal): SchemaRules.Text(s, Letta.LettaIds.MaxLabel, Letta.LettaIds.LabelPattern); break;
                case "before": SchemaRules.Text(s, Chat.ChatHistoryApi.MaxCursor, Chat.ChatHistoryApi.CursorPattern); break;
                case "action" when !bridge: SchemaRules.Text(s, Audit.AuditApi.MaxFilter); break;
                case "actor": SchemaRules.Text(s, Audit.AuditApi.MaxActor); break;
                case "target": SchemaRules.Text(s, Audit.AuditApi.MaxTarget); break;
                case "until" or "since" when s.Format == "date-time": s.MaxLength = 64; break;
                case "id" or "agent" or "tool" or "agent_id" or "tool_id": SchemaRules.Slug(s); break;
                case "key": SchemaRules.Text(s, 100, ConfigKeys.KeyPattern); break;
                case "name": SchemaRules.Text(s, ConfigKeys.MaxEnvName, ConfigKeys.EnvNamePattern); break;
                case "scope": s.Enum = Values(path.EndsWith("{key}", StringComparison.Ordinal) ? ConfigurationScopes.WithId : ConfigurationScopes.All); break;
                case "scopeId" or "scope_id": SchemaRules.Text(s, 100); break;
                case "instance" or "after_id": SchemaRules.Text(s, 19, "^[0-9]+$"); break;
                case "category": SchemaRules.Text(s, 50, "^[A-Za-z0-9_-]{1,50}$"); break;
                case "search": SchemaRules.Text(s, UsersApi.MaxSearch); break;
                case "schedule": SchemaRules.Text(s, Jobs.JobSchedule.MaxLength); break;
                case "role": s.Enum = Values(Roles.All); break;
                case "session_id": SchemaRules.Text(s, ChatBridge.BridgeInput.MaxSessionIdLength, ChatBridge.BridgeInput.SessionIdPattern); break;
                case "since": SchemaRules.Text(s, 40, @"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?(Z|[+-]\d{2}:?\d{2})?$"); break;
                // The bridge reads paging as text: limit is clamped to 1..100, offset must not be negative.
                case "limit" or "offset": SchemaRules.Text(s, 11, WholeNumber); break;
                case "active": s.Enum = Values(["true", "false"]); break;
                case "action": s.Enum = Values(ChatBridge.ChatBridgeApi.ActionNames); break;
            }
        }
    }

    private static List<JsonNode> Values(IEnumerable<string> values) => values.Select(v => (JsonNode)JsonValue.Create(v)).ToList();

    private static System.Reflection.ParameterInfo? Declared(OperationFilterContext context, string name) =>
        context.ApiDescription.ParameterDescriptions
            .FirstOrDefault(p => p.Name == name && p.ParameterDescriptor is Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor)
            ?.ParameterDescriptor is Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor { ParameterInfo: var info } ? info : null;
}
