using System.CommandLine;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Users;

namespace Sanctum.Api.Cli;

/// <summary>
/// <c>reset-admin-password [--username NAME]</c>: a one-time password, printed once, that must be changed at sign-in;
/// clears the lockout and ends the user's sessions.
/// </summary>
public static class ResetAdminPasswordCommand
{
    public static Command Create(IServiceProvider services)
    {
        var username = new Option<string>("--username") { Description = "The account (default: admin).", DefaultValueFactory = _ => "admin" };
        var command = new Command("reset-admin-password",
            "Give an account a one-time password (printed once, changed at next sign-in), clear its lockout and end its sessions.") { username };
        command.SetAction(AdminCommands.Action(async (parse, output, _) =>
        {
            services.MigrateDatabase();
            var name = parse.GetValue(username)!;
            using var db = services.GetRequiredService<Database>().Open();
            var id = db.ExecuteScalar<long?>("SELECT id FROM users WHERE lower(username) = lower(@name)", new { name })
                ?? throw new CommandFailedException($"There is no user named '{name}'.");
            var password = UserRules.TemporaryPassword();
            var hash = services.GetRequiredService<PasswordHasher>().Hash(password);
            var user = (await UsersApi.SetPasswordAsync<User>(db, id, hash, services.GetRequiredService<TimeProvider>()))!;
            await services.GetRequiredService<AuditLog>().RecordNowAsync(new AuditEvent("user.password.reset", "user", user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new { username = user.Username, via = "cli", sessions_ended = true }) { Actor = AuditLog.CliActor }, db);
            await output.WriteLineAsync($"One-time password for {user.Username} (change it at sign-in; shown only now):");
            await output.WriteLineAsync(password);
            return AdminCommands.Success;
        }));
        return command;
    }
}
