using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.ChatBridge;
using Sanctum.Api.Plugins;
using Sanctum.Api.Settings;
using Sanctum.Api.Tools;
using Sanctum.Api.Users;
using Swashbuckle.AspNetCore.SwaggerGen;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.OpenApi;

/// <summary>
/// An example for each request body, built from the wire type itself and written as the API reads it (snake_case),
/// so Swagger UI's "Try it out" starts from a body the server accepts (Spectral checks each against its schema).
/// </summary>
public sealed class RequestExamples : IOperationFilter
{
    private static readonly JsonSerializerOptions Wire = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value, Wire);

    private static readonly Dictionary<Type, object> Examples = new()
    {
        [typeof(LoginRequest)] = new LoginRequest { Username = "admin", Password = "correct-horse-battery" },
        [typeof(SecondFactorRequest)] = new SecondFactorRequest { Challenge = "q3Vx0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o", Code = "492039" },
        [typeof(TotpCodeRequest)] = new TotpCodeRequest { Code = "492039" },
        [typeof(PasskeyRename)] = new PasskeyRename { Name = "laptop" },
        [typeof(PasskeySignInStart)] = new PasskeySignInStart { Challenge = "q3Vx0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o" },
        [typeof(PasskeyRegistration)] = new PasskeyRegistration
        {
            Ceremony = "Yk3o0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o", Name = "laptop",
            Credential = Json(new
            {
                id = "AAECAwQFBgcICQ", rawId = "AAECAwQFBgcICQ", type = "public-key", clientExtensionResults = new { },
                response = new { clientDataJSON = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0", attestationObject = "o2NmbXRkbm9uZQ" },
            }),
        },
        [typeof(PasskeySignIn)] = new PasskeySignIn
        {
            Ceremony = "Yk3o0cQbHk2m1-7fQeZpN4dKcY8sWbTn2LrA6jUvE9o",
            Credential = Json(new
            {
                id = "AAECAwQFBgcICQ", rawId = "AAECAwQFBgcICQ", type = "public-key", clientExtensionResults = new { },
                response = new { clientDataJSON = "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0", authenticatorData = "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2M", signature = "MEUCIQ", userHandle = "MQ" },
            }),
        },
        [typeof(PasswordChangeRequest)] = new PasswordChangeRequest { CurrentPassword = "admin123", NewPassword = "correct-horse-battery" },
        [typeof(ToolWrite)] = new ToolWrite
        {
            Id = "weather", Name = "Weather", Description = "Forecasts for the agents", Emoji = "⛅", Category = "master", Status = "Healthy",
            RoutePath = "/weather", IsEnabled = true, ModuleScope = "global", ConfigSchema = Json(new { type = "object" }),
        },
        [typeof(ToolInstanceWrite)] = new ToolInstanceWrite
        {
            AgentId = "athena", Name = "Athena's forecasts", Config = Json(new { city = "Lisbon" }), Status = "Ready",
            HealthCheck = Json(new { type = "http", target = "http://127.0.0.1:8080/health", interval_seconds = 60, timeout_ms = 5000 }),
        },
        [typeof(PluginRequest)] = new PluginRequest { Name = "radar", Version = "1.2.0", Status = "Active", Config = Json(new { zoom = 3 }), Dependencies = [], IsEnabled = true },
        [typeof(AgentWrite)] = new AgentWrite
        {
            Id = "athena", Name = "Athena", DisplayName = "Athena", Description = "Research agent", Status = "Healthy", IsActive = true,
            VisibleToUsers = Json(null!), VisibleToRoles = Json(new[] { "admin", "user" }),
        },
        [typeof(SettingWrite)] = new SettingWrite { Value = Json(30), IsEncrypted = false },
        [typeof(SettingRollback)] = new SettingRollback { Version = 3 },
        [typeof(UserCreate)] = new UserCreate { Username = "jane.doe", Email = "jane@example.com", Role = "user" },
        [typeof(UserUpdate)] = new UserUpdate { Role = "viewer", Status = "active" },
        [typeof(PasswordReset)] = new PasswordReset { Password = "a-new-password-1" },
        [typeof(MessageRequest)] = new MessageRequest { SessionId = "session_7f3a9c", Message = "What is on my calendar today?", AgentId = "athena" },
        [typeof(OutboxRequest)] = new OutboxRequest { SessionId = "session_7f3a9c", Response = "Two meetings: 10:00 and 15:30.", MessageId = 42 },
        [typeof(AccessTokenCreate)] = new AccessTokenCreate { Name = "nightly export", ExpiresInDays = 90, Scope = "read" },
        [typeof(Jobs.JobWrite)] = new Jobs.JobWrite { Name = "Nightly backup", Kind = "backup", Schedule = "0 3 * * *", Enabled = true, Params = Json(new { keep = 7 }) },
        [typeof(Smcp.ToolCallRequest)] = new Smcp.ToolCallRequest { Arguments = Json(new { message = "hello" }), InstanceId = 1 },
        [typeof(Letta.LettaLinkWrite)] = new Letta.LettaLinkWrite { LettaUid = "agent-6f1c2a9e-3b7d-4c1e-9a2f-0d8e5b4c3a21" },
        [typeof(Letta.LettaImport)] = new Letta.LettaImport { Id = "athena", Name = "Athena" },
        [typeof(Letta.LettaBlockWrite)] = new Letta.LettaBlockWrite { Value = "The user's name is Jane. She prefers short answers." },
        [typeof(BridgeConfigRequest)] = new BridgeConfigRequest { MaxMessageLength = 4000, SessionTimeout = 3600 },
        [typeof(Broca.BrocaSettingsDocument)] = new Broca.BrocaSettingsDocument { ["message_mode"] = Json("listen"), ["queue_refresh"] = Json(10) },
        [typeof(Broca.BrocaEnvDocument)] = new Broca.BrocaEnvDocument { ["AGENT_ID"] = Json("agent-athena"), ["AGENT_API_KEY"] = Json("********") },
        [typeof(Broca.BrocaPromote)] = new Broca.BrocaPromote { Role = "viewer" },
        [typeof(Broca.BrocaUserUpdate)] = new Broca.BrocaUserUpdate { IsActive = false },
        [typeof(Alerts.ChannelWrite)] = new Alerts.ChannelWrite
        {
            Name = "On-call mail", Type = "email", SmtpHost = "smtp.example.com", SmtpPort = 587, SmtpSecurity = "starttls",
            SmtpUsername = "alerts@example.com", SmtpPassword = "an-app-password", From = "alerts@example.com", To = ["oncall@example.com"], Enabled = true,
        },
        [typeof(Alerts.RuleWrite)] = new Alerts.RuleWrite
        {
            Name = "Tools down", Event = "status", Kinds = ["tool", "instance"], Statuses = ["Degraded", "Off"], GraceSeconds = 120, ChannelIds = [1], Enabled = true,
        },
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media) || media is not OpenApiMediaType json) return;
        var type = context.ApiDescription.ParameterDescriptions.FirstOrDefault(p => p.Source == Microsoft.AspNetCore.Mvc.ModelBinding.BindingSource.Body)?.Type
            ?? context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>().LastOrDefault()?.RequestType;
        if (type is not null && Examples.TryGetValue(type, out var example)) json.Example = JsonSerializer.SerializeToNode(example, type, Wire);
    }
}
