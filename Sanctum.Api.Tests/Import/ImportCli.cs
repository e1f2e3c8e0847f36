using System.Diagnostics;

namespace Sanctum.Api.Tests.Import;

/// <summary>
/// <c>dotnet Sanctum.Api.dll import-flask ...</c> as a real child process, the way an operator runs it with the server
/// stopped: the same entry point, configuration from the environment, and its own process (so SQLite's locks held by
/// this test process count as another process's).
/// </summary>
public static class ImportCli
{
    /// <summary>The fresh install's admin password in these runs: not admin123, so an admin123 sign-in proves the old hash arrived.</summary>
    public const string InstallAdminPassword = "install-admin-password";

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
    }

    public static async Task<Result> RunAsync(string dataDirectory, params string[] args)
    {
        var start = Evidence.ServerProcess.StartInfo(dataDirectory, args);
        start.Environment["Sanctum__BootstrapAdminPassword"] = InstallAdminPassword;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return new Result(process.ExitCode, await output, await error);
    }
}
