using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Sanctum.Api.Alerts;

/// <summary>A channel ready to send: its settings and its secret (webhook secret or SMTP password) in clear, in memory only.</summary>
public sealed record ResolvedChannel(long Id, string Type, ChannelConfig Config, string? Secret);

/// <summary>
/// Sends one alert through one channel: a signed JSON POST for a webhook, a mail over SMTP (MailKit) for email. Each send
/// is bounded by Sanctum:Alerts:SendTimeout; an error is returned as text, never thrown.
/// </summary>
public sealed class AlertSender(IHttpClientFactory http, TimeProvider clock, IOptions<SanctumOptions> options)
{
    public const string HttpClientName = "alerts";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly AlertOptions _options = options.Value.Alerts;

    public async Task<string?> SendAsync(ResolvedChannel channel, AlertPayload payload, CancellationToken cancellationToken)
    {
        var error = await TrySendAsync(channel, payload, cancellationToken);
        return error is { Length: > AlertNames.MaxError } ? error[..AlertNames.MaxError] : error;
    }

    private async Task<string?> TrySendAsync(ResolvedChannel channel, AlertPayload payload, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.SendTimeout);
        try
        {
            return channel.Type == "webhook"
                ? await PostAsync(channel, payload, timeout.Token)
                : await MailAsync(channel, payload, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"No answer within {_options.SendTimeout.TotalSeconds:0.#} s.";
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException
                                       or MailKit.CommandException or AuthenticationException or SslHandshakeException or InvalidOperationException
                                       or System.Security.Authentication.AuthenticationException or CryptographicException or ParseException or ArgumentException)
        {
            return e.Message;
        }
    }

    /// <summary>The signature a receiver recomputes: hex of HMAC-SHA256(secret, "&lt;timestamp&gt;.&lt;body&gt;").</summary>
    public static string Signature(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    private async Task<string?> PostAsync(ResolvedChannel channel, AlertPayload payload, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(payload, Json);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.Config.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Sanctum-Timestamp", timestamp);
        request.Headers.Add("X-Sanctum-Event", payload.Event);
        if (!string.IsNullOrEmpty(channel.Secret)) request.Headers.Add("X-Sanctum-Signature", Signature(channel.Secret, timestamp, body));
        using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return response.IsSuccessStatusCode ? null : $"The webhook answered HTTP {(int)response.StatusCode}.";
    }

    private async Task<string?> MailAsync(ResolvedChannel channel, AlertPayload payload, CancellationToken cancellationToken)
    {
        var c = channel.Config;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(c.From!));
        foreach (var to in c.To ?? []) message.To.Add(MailboxAddress.Parse(to));
        message.Subject = payload.Summary;
        message.Body = new TextPart("plain") { Text = Text(payload) };

        using var smtp = new SmtpClient { Timeout = (int)_options.SendTimeout.TotalMilliseconds };
        if (TrustedCertificate() is { } trusted)
            smtp.ServerCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None || (certificate is not null && trusted.Thumbprint.Equals(new X509Certificate2(certificate).Thumbprint, StringComparison.OrdinalIgnoreCase));
        var security = c.SmtpSecurity switch { "none" => SecureSocketOptions.None, "tls" => SecureSocketOptions.SslOnConnect, _ => SecureSocketOptions.StartTls };
        // Required when an email channel is created (AlertChannels), so a stored one always has it.
        await smtp.ConnectAsync(c.SmtpHost ?? throw new InvalidOperationException("The email channel has no SMTP host."), c.SmtpPort ?? 587, security, cancellationToken);
        if (!string.IsNullOrEmpty(c.SmtpUsername)) await smtp.AuthenticateAsync(c.SmtpUsername, channel.Secret ?? "", cancellationToken);
        await smtp.SendAsync(message, cancellationToken);
        await smtp.DisconnectAsync(true, cancellationToken);
        return null;
    }

    /// <summary>An extra certificate trusted for SMTP (a private server's self-signed one): Sanctum:Alerts:SmtpTrustedCertificate, a PEM file.</summary>
    private X509Certificate2? TrustedCertificate()
    {
        if (string.IsNullOrWhiteSpace(_options.SmtpTrustedCertificate)) return null;
        var pem = File.ReadAllText(_options.SmtpTrustedCertificate);
        var found = PemEncoding.Find(pem);
        return X509CertificateLoader.LoadCertificate(Convert.FromBase64String(pem[found.Base64Data]));
    }

    public static string Text(AlertPayload p)
    {
        var text = new StringBuilder();
        text.AppendLine(p.Summary).AppendLine();
        text.AppendLine($"Event: {p.Event}");
        text.AppendLine($"At: {p.At}");
        if (p.Entity is { } e) text.AppendLine($"Entity: {e.Kind} {e.Id}" + (e.Name is null ? "" : $" ({e.Name})"));
        if (p.FromStatus is not null || p.ToStatus is not null) text.AppendLine($"Status: {p.FromStatus ?? "-"} -> {p.ToStatus ?? "-"}");
        if (p.Reason is not null) text.AppendLine($"Reason: {p.Reason}");
        return text.ToString();
    }
}
