using System.Text.Json;
using Dapper;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Users;

namespace Sanctum.Api.Import;

/// <summary>
/// Old users with their bcrypt hashes as they are (Python's <c>$2b$</c> hashes verify with BCrypt.Net), so nobody's
/// password changes. A username or email already here (in any case) is left alone, except the admin of a fresh install
/// that nobody has signed in as yet: the old admin takes its place.
/// </summary>
public static class UserImport
{
    /// <summary>The old panel seeded its admin with this password; an admin still using it must change it here.</summary>
    private const string OldDefaultAdminPassword = "admin123";

    private static readonly string[] Roles = ["admin", "user", "viewer"];

    public static void Run(ImportContext context)
    {
        var source = context.Source;
        var report = context.Report.Table("users");
        var users = source.Connection.Query<OldUser>($"""
            SELECT id, {source.Text("users", "username")}, {source.Text("users", "email")}, {source.Text("users", "password_hash")},
                   {source.Text("users", "role")}, {source.Text("users", "permissions")}, {source.Integer("users", "is_active")},
                   {source.Text("users", "last_login")}, {source.Text("users", "created_at")}, {source.Text("users", "updated_at")}
            FROM users ORDER BY id
            """);
        foreach (var old in users)
        {
            var username = old.Username?.Trim();
            var email = old.Email?.Trim();
            if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(email))
            {
                report.Skip("no username or email", username ?? $"id {old.Id}");
                continue;
            }
            // The API's own rules: a name or address it would refuse could not be edited or signed in with afterwards.
            if (!UserRules.IsUsername(username))
            {
                report.Skip("username breaks this service's rules (3 to 50 letters, digits, '_', '.' or '-')", username);
                continue;
            }
            if (!UserRules.IsEmail(email))
            {
                report.Skip("email is not an address this service accepts", username);
                continue;
            }
            if (!IsBcrypt(old.PasswordHash))
            {
                report.Skip("password hash is not bcrypt", username);
                continue;
            }
            // A cost above this service's would hold a core for as long at every sign-in (cost 31: days): such a user
            // comes without a usable password (one nobody knows, at this service's cost) until an admin resets it.
            var hash = old.PasswordHash!;
            var tooCostly = int.Parse(hash.AsSpan(4, 2), System.Globalization.CultureInfo.InvariantCulture) > context.Passwords.WorkFactor;
            if (tooCostly)
            {
                hash = context.Passwords.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
                context.Report.Notes.Add($"user {username}: the old password's bcrypt cost {old.PasswordHash!.Substring(4, 2)} is above this service's "
                    + $"{context.Passwords.WorkFactor}: imported without a usable password; an admin sets one (POST /api/users/{{id}}/password).");
            }

            // The old panel's default role was user; a role it did not know gets the least access here.
            var oldRole = string.IsNullOrWhiteSpace(old.Role) ? "user" : old.Role.Trim();
            var role = Roles.Contains(oldRole.ToLowerInvariant()) ? oldRole.ToLowerInvariant() : "viewer";
            if (role != oldRole) context.Report.Notes.Add($"user {username}: role '{oldRole}' became {role}.");
            var row = new
            {
                username,
                email,
                hash,
                role,
                status = old.IsActive is 0 ? "inactive" : "active",
                permissions = PermissionsOf(old.Permissions),
                mustChange = tooCostly || MustChangePassword(context, username, old.PasswordHash!),
                lastLogin = ImportContext.Time(old.LastLogin),
                createdAt = ImportContext.Time(old.CreatedAt, context.Now),
                updatedAt = ImportContext.Time(old.UpdatedAt, context.Now),
            };

            var existing = context.Target.Query<ExistingUser>("""
                SELECT id, username, password_hash, must_change_password, last_login FROM users
                WHERE lower(username) = lower(@username) OR lower(email) = lower(@email)
                """, new { username, email }, context.Transaction).ToList();
            if (existing.Count == 0)
            {
                var id = context.Target.ExecuteScalar<long>("""
                    INSERT INTO users (username, email, password_hash, role, status, permissions, must_change_password, last_login, created_at, updated_at)
                    VALUES (@username, @email, @hash, @role, @status, @permissions, @mustChange, @lastLogin, @createdAt, @updatedAt)
                    RETURNING id
                    """, row, context.Transaction);
                context.UserIds[old.Id] = id;
                report.Import();
            }
            else if (existing is [{ } same] && string.Equals(same.Username, username, StringComparison.OrdinalIgnoreCase)
                     && (same.PasswordHash == old.PasswordHash || tooCostly))
            {
                context.UserIds[old.Id] = same.Id;
                report.Skip("already imported", username);
            }
            else if (existing is [{ } fresh] && IsUntouchedInstallAdmin(fresh) && string.Equals(username, "admin", StringComparison.OrdinalIgnoreCase))
            {
                context.Target.Execute("""
                    UPDATE users SET username = @username, email = @email, password_hash = @hash, role = @role, status = @status,
                        permissions = @permissions, must_change_password = @mustChange, last_login = @lastLogin,
                        failed_login_attempts = 0, locked_until = NULL, created_at = @createdAt, updated_at = @updatedAt
                    WHERE id = @id
                    """, new { row.username, row.email, row.hash, row.role, row.status, row.permissions, row.mustChange, row.lastLogin,
                        row.createdAt, row.updatedAt, id = fresh.Id }, context.Transaction);
                context.UserIds[old.Id] = fresh.Id;
                report.Replace($"{username} (this install's admin, never signed in, takes the old admin's email and password)");
            }
            else
            {
                report.Skip("username or email already exists here", username);
            }
        }
    }

    /// <summary>The seeded admin of a fresh install: nobody has signed in with it, so nothing of it is lost.</summary>
    private static bool IsUntouchedInstallAdmin(ExistingUser user) =>
        user.Username == "admin" && user.MustChangePassword && user.LastLogin is null;

    /// <summary>Only the old seeded admin can hold the well-known password; checking every user would cost a bcrypt each.</summary>
    private static bool MustChangePassword(ImportContext context, string username, string hash) =>
        string.Equals(username, "admin", StringComparison.OrdinalIgnoreCase) && context.Passwords.Verify(OldDefaultAdminPassword, hash);

    /// <summary>A bcrypt hash as Python's bcrypt and BCrypt.Net write it: $2a$, $2b$ or $2y$, a cost, 53 characters of salt and hash.</summary>
    private static bool IsBcrypt(string? hash) =>
        hash is { Length: 60 } && (hash.StartsWith("$2a$") || hash.StartsWith("$2b$") || hash.StartsWith("$2y$")) && hash[6] == '$'
        && char.IsAsciiDigit(hash[4]) && char.IsAsciiDigit(hash[5]);

    private static string PermissionsOf(string? text)
    {
        if (ImportContext.Json(text) is not { } json) return "[]";
        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Array ? json : "[]";
    }

    private sealed class OldUser
    {
        public long Id { get; init; }
        public string? Username { get; init; }
        public string? Email { get; init; }
        public string? PasswordHash { get; init; }
        public string? Role { get; init; }
        public string? Permissions { get; init; }
        public long? IsActive { get; init; }
        public string? LastLogin { get; init; }
        public string? CreatedAt { get; init; }
        public string? UpdatedAt { get; init; }
    }

    private sealed class ExistingUser
    {
        public long Id { get; init; }
        public required string Username { get; init; }
        public required string PasswordHash { get; init; }
        public bool MustChangePassword { get; init; }
        public string? LastLogin { get; init; }
    }
}
