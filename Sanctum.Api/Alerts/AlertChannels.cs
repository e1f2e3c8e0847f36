using System.Data.Common;
using System.Text.Json;
using Dapper;
using MimeKit;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Alerts;

/// <summary>
/// Channels as stored: settings as JSON in alert_channels.config, the one secret (webhook secret or SMTP password)
/// encrypted with Data Protection in alert_channels.secret, shown as "********" and never returned in clear.
/// </summary>
public sealed class AlertChannels(Secrets secrets)
{
    public const string Columns = "id, name, type, config, secret, enabled, created_at, updated_at";

    public sealed record Row
    {
        public long Id { get; init; }
        public string Name { get; init; } = "";
        public string Type { get; init; } = "";
        public string Config { get; init; } = "{}";
        public string? Secret { get; init; }
        public bool Enabled { get; init; }
        public string CreatedAt { get; init; } = "";
        public string UpdatedAt { get; init; } = "";
    }

    public static ChannelConfig ConfigOf(Row row) => JsonSerializer.Deserialize<ChannelConfig>(row.Config, AlertSender.Json) ?? new ChannelConfig();

    public static AlertChannel Show(Row row)
    {
        var c = ConfigOf(row);
        var secret = row.Secret is null ? null : Secrets.Mask;
        return new AlertChannel
        {
            Id = row.Id, Name = row.Name, Type = row.Type, Url = c.Url, Secret = row.Type == "webhook" ? secret : null,
            SmtpHost = c.SmtpHost, SmtpPort = c.SmtpPort, SmtpSecurity = c.SmtpSecurity, SmtpUsername = c.SmtpUsername,
            SmtpPassword = row.Type == "email" ? secret : null, From = c.From, To = c.To, Enabled = row.Enabled,
            CreatedAt = row.CreatedAt, UpdatedAt = row.UpdatedAt,
        };
    }

    public async Task<Row?> FindAsync(DbConnection db, long id, DbTransaction? tx = null) =>
        await db.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM alert_channels WHERE id = @id", new { id }, tx);

    /// <summary>The channel with its secret in clear, or null when the secret cannot be decrypted with this install's keys.</summary>
    public async Task<ResolvedChannel?> ResolveAsync(DbConnection db, long id) =>
        await FindAsync(db, id) is { } row ? Resolve(row) : null;

    public ResolvedChannel? Resolve(Row row)
    {
        string? secret = null;
        if (row.Secret is not null && (secret = secrets.Unprotect(row.Secret)) is null) return null;
        return new ResolvedChannel(row.Id, row.Type, ConfigOf(row), secret);
    }

    public string? Protect(string? secret) => secrets.Protect(secret);

    /// <summary>
    /// Checks a write and returns the merged settings: <paramref name="current"/> is null when creating. The fields of the
    /// other type must be absent; a secret of "********" (the mask) or absent keeps the stored one.
    /// </summary>
    public static ChannelConfig? Check(ChannelWrite body, Row? current, Errors errors, out string type)
    {
        type = current?.Type ?? body.Type ?? "";
        if (current is null) errors.Required("name", body.Name).Required("type", body.Type, string.Join(", ", AlertNames.ChannelTypes));
        else if (body.Type is not null && body.Type != current.Type) errors.Add("type", "The type of a channel cannot change; create another channel.");
        if (errors.Any) return null;
        var was = current is null ? new ChannelConfig() : ConfigOf(current);
        if (type == "webhook")
        {
            foreach (var (field, value) in new (string, object?)[] { ("smtp_host", body.SmtpHost), ("smtp_port", body.SmtpPort), ("smtp_security", body.SmtpSecurity),
                         ("smtp_username", body.SmtpUsername), ("smtp_password", body.SmtpPassword), ("from", body.From), ("to", body.To) })
                if (value is not null) errors.Add(field, "Only for email channels.");
            var url = body.Url ?? was.Url;
            if (current is null) errors.Required("url", body.Url);
            if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && string.IsNullOrEmpty(u.UserInfo)))
                errors.Add("url", "Must be an absolute http or https URL without user information.");
            if (current is null) errors.Required("secret", body.Secret);
            if (body.Secret is { Length: < 16 } s && s != Secrets.Mask) errors.Add("secret", "Must be at least 16 characters.");
            return errors.Any ? null : new ChannelConfig { Url = url };
        }
        if (body.Url is not null) errors.Add("url", "Only for webhook channels.");
        if (body.Secret is not null) errors.Add("secret", "Only for webhook channels.");
        if (current is null) errors.Required("smtp_host", body.SmtpHost).Required("from", body.From).Required("to", body.To, "at least one address");
        if (body.From is not null && !IsAddress(body.From)) errors.Add("from", "Must be an email address.");
        if (body.To is { } to)
            for (var i = 0; i < to.Count; i++)
                if (!IsAddress(to[i])) errors.Add($"to[{i}]", "Must be an email address.");
        return errors.Any ? null : new ChannelConfig
        {
            SmtpHost = body.SmtpHost?.Trim() ?? was.SmtpHost, SmtpPort = body.SmtpPort ?? was.SmtpPort ?? 587,
            SmtpSecurity = body.SmtpSecurity ?? was.SmtpSecurity ?? "starttls",
            SmtpUsername = body.SmtpUsername is null ? was.SmtpUsername : body.SmtpUsername.Length == 0 ? null : body.SmtpUsername,
            From = body.From ?? was.From, To = body.To ?? was.To,
        };
    }

    private static bool IsAddress(string text) =>
        MailboxAddress.TryParse(text, out var address) && address.Address.Contains('@') && !text.Any(char.IsControl);
}
