using System.ComponentModel.DataAnnotations;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Alerts;

public static class AlertNames
{
    public static readonly string[] ChannelTypes = ["webhook", "email"];
    public static readonly string[] Securities = ["none", "starttls", "tls"];
    public static readonly string[] Events = ["status", "job.failed", "backup.failed", "audit.broken", "disk.low"];
    public static readonly string[] Kinds = ["tool", "instance", "agent"];
    public static readonly string[] Statuses = ["Degraded", "Off"];
    public static readonly string[] DeliveryStatuses = ["pending", "sent", "failed"];
    public const int MaxSummary = 500, MaxError = 2000, MaxListed = 500, MaxName = 100, MaxUrl = 2000, MaxSecret = 500, MaxHost = 255, MaxAddress = 254, MaxRecipients = 20, MaxChannels = 20;
}

/// <summary>A channel to create or change; the fields of the other type must be absent. <c>secret</c> and <c>smtp_password</c> are write-only.</summary>
public sealed record ChannelWrite
{
    [Text(AlertNames.MaxName, NotBlank = true)] public string? Name { get; init; }
    [OneOf("webhook", "email")] public string? Type { get; init; }
    [Text(AlertNames.MaxUrl)] public string? Url { get; init; }
    [Text(AlertNames.MaxSecret)] public string? Secret { get; init; }
    [Text(AlertNames.MaxHost, NotBlank = true)] public string? SmtpHost { get; init; }
    [Between(1, 65535)] public int? SmtpPort { get; init; }
    [OneOf("none", "starttls", "tls")] public string? SmtpSecurity { get; init; }
    [Text(AlertNames.MaxAddress)] public string? SmtpUsername { get; init; }
    [Text(AlertNames.MaxSecret)] public string? SmtpPassword { get; init; }
    [Text(AlertNames.MaxAddress)] public string? From { get; init; }
    [ListOf(AlertNames.MaxRecipients, NotEmpty = true), Items(AlertNames.MaxAddress)] public IReadOnlyList<string>? To { get; init; }
    public bool? Enabled { get; init; }
}

/// <summary>The part of a channel kept as JSON in alert_channels.config (never the secret).</summary>
public sealed record ChannelConfig
{
    public string? Url { get; init; }
    public string? SmtpHost { get; init; }
    public int? SmtpPort { get; init; }
    public string? SmtpSecurity { get; init; }
    public string? SmtpUsername { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string>? To { get; init; }
}

/// <summary>A channel as the API shows it: <c>secret</c>/<c>smtp_password</c> are "********" when set, else null.</summary>
public sealed record AlertChannel
{
    public long Id { get; init; }
    [MaxLength(AlertNames.MaxName)] public required string Name { get; init; }
    [OneOf("webhook", "email")] public required string Type { get; init; }
    [MaxLength(AlertNames.MaxUrl)] public string? Url { get; init; }
    [OneOf("********")] public string? Secret { get; init; }
    [MaxLength(AlertNames.MaxHost)] public string? SmtpHost { get; init; }
    [Range(1, 65535)] public int? SmtpPort { get; init; }
    [OneOf("none", "starttls", "tls")] public string? SmtpSecurity { get; init; }
    [MaxLength(AlertNames.MaxAddress)] public string? SmtpUsername { get; init; }
    [OneOf("********")] public string? SmtpPassword { get; init; }
    [MaxLength(AlertNames.MaxAddress)] public string? From { get; init; }
    [MaxLength(AlertNames.MaxRecipients), Items(AlertNames.MaxAddress)] public IReadOnlyList<string>? To { get; init; }
    public bool Enabled { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

public sealed record RuleWrite
{
    [Text(AlertNames.MaxName, NotBlank = true)] public string? Name { get; init; }
    [OneOf("status", "job.failed", "backup.failed", "audit.broken", "disk.low")] public string? Event { get; init; }
    [ListOf(3), Items(10, "tool", "instance", "agent")] public IReadOnlyList<string>? Kinds { get; init; }
    [ListOf(2), Items(10, "Degraded", "Off")] public IReadOnlyList<string>? Statuses { get; init; }
    [Between(0, 3600)] public int? GraceSeconds { get; init; }
    [ListOf(AlertNames.MaxChannels, NotEmpty = true)] public IReadOnlyList<long>? ChannelIds { get; init; }
    public bool? Enabled { get; init; }
}

public sealed record AlertRule
{
    public long Id { get; init; }
    [MaxLength(AlertNames.MaxName)] public required string Name { get; init; }
    [OneOf("status", "job.failed", "backup.failed", "audit.broken", "disk.low")] public required string Event { get; init; }
    [MaxLength(3), Items(10, "tool", "instance", "agent")] public required IReadOnlyList<string> Kinds { get; init; }
    [MaxLength(2), Items(10, "Degraded", "Off")] public required IReadOnlyList<string> Statuses { get; init; }
    [Range(0, 3600)] public int GraceSeconds { get; init; }
    [MaxLength(AlertNames.MaxChannels)] public required IReadOnlyList<long> ChannelIds { get; init; }
    public bool Enabled { get; init; }
    public required string CreatedAt { get; init; }
    public required string UpdatedAt { get; init; }
}

public sealed record AlertDelivery
{
    public long Id { get; init; }
    public long RuleId { get; init; }
    public long ChannelId { get; init; }
    /// <summary>status, status.resolved, job.failed, backup.failed, audit.broken or disk.low.</summary>
    [MaxLength(50)] public required string Event { get; init; }
    [MaxLength(AlertNames.MaxSummary)] public string? Summary { get; init; }
    [OneOf("pending", "sent", "failed")] public required string Status { get; init; }
    public long Attempts { get; init; }
    [MaxLength(AlertNames.MaxError)] public string? LastError { get; init; }
    public required string CreatedAt { get; init; }
    public string? SentAt { get; init; }
}

public sealed record DeliveryPage([property: MaxLength(AlertsApi.MaxLimit)] IReadOnlyList<AlertDelivery> Items, long? NextCursor);

/// <summary>What a test send did: ok, or the error the channel gave.</summary>
public sealed record ChannelTestResult(bool Ok, [property: MaxLength(AlertNames.MaxError)] string? Error, long DurationMs);

/// <summary>What a webhook receives as its JSON body (and an email as its text).</summary>
public sealed record AlertPayload(
    string Event, string Summary, string At, AlertEntity? Entity, string? FromStatus, string? ToStatus, string? Reason);

public sealed record AlertEntity(string Kind, string Id, string? Name);
