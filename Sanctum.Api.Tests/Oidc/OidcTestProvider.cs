using System.Diagnostics;
using System.Net.Sockets;

namespace Sanctum.Api.Tests.Oidc;

/// <summary>
/// A real OpenID provider on loopback: oidc-provider (tools/oidc, `npm ci --prefix tools/oidc`) with the client
/// sanctum / sanctum-test-secret and the accounts of a users.json the test may rewrite between sign-ins.
/// </summary>
public sealed class OidcTestProvider : IDisposable
{
    public const string ClientId = "sanctum", ClientSecret = "sanctum-test-secret";
    private readonly Process _process;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sanctum-oidc-" + Guid.NewGuid().ToString("N"));

    /// <summary>A loopback port free now, for the provider's issuer (the server needs it before the provider starts).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public OidcTestProvider(int port, string redirectUri, object users)
    {
        Directory.CreateDirectory(_directory);
        SetUsers(users);
        var tool = Sanctum.Api.Tests.Peers.PeerProcess.ToolFolder("oidc"); // npm ci when .ci/run has not
        _process = Process.Start(new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(tool, "provider.js"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), redirectUri, UsersFile },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
            throw new InvalidOperationException("The OpenID provider did not start.");
        Authority = $"http://localhost:{port}";
    }

    public string Authority { get; }

    private string UsersFile => Path.Combine(_directory, "users.json");

    /// <summary>Rewrites the accounts: { "ada": { "email": "...", "groups": ["..."] } }; read at every sign-in.</summary>
    public void SetUsers(object users) => File.WriteAllText(UsersFile, JsonSerializer.Serialize(users));

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
