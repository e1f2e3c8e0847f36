using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sanctum.Api.Tests.Alerts;

/// <summary>
/// A real SMTP server on loopback: tools/smtp/server.py on Debian's python3-aiosmtpd, requiring STARTTLS (with a
/// self-signed certificate made here, whose PEM is <see cref="CertificatePath"/>) and AUTH as <see cref="User"/>.
/// Each message it accepts is a file in <see cref="MailDirectory"/>, written before its 250 reply.
/// </summary>
public sealed class SmtpTestServer : IDisposable
{
    public const string User = "alerts@example.test", Password = "smtp-password-for-tests";
    private readonly Process _process;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sanctum-smtp-" + Guid.NewGuid().ToString("N"));

    public SmtpTestServer()
    {
        Directory.CreateDirectory(MailDirectory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        var keyPath = Path.Combine(_directory, "key.pem");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());

        var script = Path.Combine(OpenApiTests.RepositoryRoot(), "tools", "smtp", "server.py");
        _process = Process.Start(new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--outdir", MailDirectory, "--cert", CertificatePath, "--key", keyPath, "--user", User, "--password", Password },
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var line = _process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
            throw new InvalidOperationException("The SMTP server did not start (is python3-aiosmtpd installed?): " + _process.StandardError.ReadToEnd());
        Port = int.Parse(line[5..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Port { get; }
    public string MailDirectory => Path.Combine(_directory, "mail");
    public string CertificatePath => Path.Combine(_directory, "cert.pem");

    public IReadOnlyList<string> Messages() =>
        Directory.GetFiles(MailDirectory, "*.eml").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
