using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Alerts;

/// <summary>The alert channel and rule request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class AlertExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(ChannelWrite)] = new ChannelWrite
        {
            Name = "On-call mail", Type = "email", SmtpHost = "smtp.example.com", SmtpPort = 587, SmtpSecurity = "starttls",
            SmtpUsername = "alerts@example.com", SmtpPassword = "an-app-password", From = "alerts@example.com", To = ["oncall@example.com"], Enabled = true,
        },
        [typeof(RuleWrite)] = new RuleWrite
        {
            Name = "Tools down", Event = "status", Kinds = ["tool", "instance"], Statuses = ["Degraded", "Off"], GraceSeconds = 120, ChannelIds = [1], Enabled = true,
        },
    };
}
