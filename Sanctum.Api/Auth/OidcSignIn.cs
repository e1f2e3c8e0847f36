using System.Data.Common;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Users;

namespace Sanctum.Api.Auth;

/// <summary>
/// The end of a single sign-on: the provider's verified email finds the local user (linked by the provider's issuer and
/// subject after the first time) or creates one when allowed; the role follows the user's groups at every sign-in (an
/// admin demoted at the provider is demoted here at the next one); then our own session, exactly as a password sign-in.
/// Refusals go back to the login page with a reason and are audited; nothing is issued.
/// </summary>
public static class OidcSignIn
{
    public const string NextItem = "sanctum.next";

    private static readonly string[] RoleOrder = [Roles.Admin, Roles.User, Roles.Viewer];

    public static async Task TicketReceivedAsync(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var o = services.GetRequiredService<IOptions<SanctumOptions>>().Value;
        var audit = services.GetRequiredService<AuditLog>();
        var db = services.GetRequiredService<DbConnection>();
        var principal = context.Principal!;
        var issuer = principal.FindFirst("iss")?.Value ?? o.Oidc.Authority!;
        var subject = principal.FindFirst("sub")?.Value;
        var email = principal.FindFirst("email")?.Value?.Trim();
        var verified = string.Equals(principal.FindFirst("email_verified")?.Value, "true", StringComparison.OrdinalIgnoreCase);
        var groups = principal.FindAll(o.Oidc.RoleClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var role = RoleOrder.FirstOrDefault(r => o.Oidc.GroupRoles.Any(m => groups.Contains(m.Key) && string.Equals(m.Value, r, StringComparison.OrdinalIgnoreCase)));
        context.HandleResponse();

        string? refusal = subject is null ? "no_subject"
            : email is null || !verified ? "email_not_verified"
            : !DomainAllowed(o.Oidc.AllowedDomains, email) ? "domain_not_allowed"
            : role is null ? "no_role_for_groups" : null;
        long? userId = null;
        string? username = null;
        if (refusal is null)
        {
            (userId, username, refusal) = await FindOrCreateAsync(db, services, o.Oidc, issuer, subject!, email!, principal, role!);
        }
        if (refusal is not null)
        {
            audit.Record(new AuditEvent("auth.login.failed", "user", userId?.ToString(CultureInfo.InvariantCulture),
                new { provider = OidcSetup.Scheme, subject, email, reason = refusal }, "failure"), http);
            services.GetRequiredService<SanctumMetrics>().SignIn("failed");
            http.Response.Redirect("/login?sso_error=" + Uri.EscapeDataString(refusal));
            return;
        }
        var clock = services.GetRequiredService<TimeProvider>();
        var signedIn = await SignInSession.IssueAsync(db, userId!.Value, username!, o, clock.GetUtcNow(), audit, http,
            services.GetRequiredService<SanctumMetrics>(), new { username, provider = OidcSetup.Scheme, issuer, subject, role });
        var next = context.Properties?.Items.TryGetValue(NextItem, out var n) == true ? OidcApi.SafeNext(n) : "/";
        http.Response.Redirect(signedIn is null ? "/login?sso_error=inactive" : next);
    }

    public static Task RemoteFailureAsync(RemoteFailureContext context)
    {
        // A tampered or replayed state, a failed nonce or code exchange, or the user declining at the provider.
        context.HttpContext.RequestServices.GetRequiredService<AuditLog>().Record(new AuditEvent("auth.login.failed", "user", null,
            new { provider = OidcSetup.Scheme, reason = "remote_failure", message = context.Failure?.Message?[..Math.Min(context.Failure.Message.Length, 300)] }, "failure"),
            context.HttpContext);
        context.HandleResponse();
        context.Response.Redirect("/login?sso_error=refused");
        return Task.CompletedTask;
    }

    private static bool DomainAllowed(string? allowed, string email)
    {
        if (string.IsNullOrWhiteSpace(allowed)) return true;
        var domain = email[(email.LastIndexOf('@') + 1)..];
        return allowed.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries).Any(d => string.Equals(d, domain, StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<(long? Id, string? Username, string? Refusal)> FindOrCreateAsync(
        DbConnection db, IServiceProvider services, OidcOptions o, string issuer, string subject, string email, ClaimsPrincipal principal, string role)
    {
        var linked = await db.QuerySingleOrDefaultAsync<(long, string)?>(
            "SELECT u.id, u.username FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.issuer = @issuer AND i.subject = @subject",
            new { issuer, subject });
        var (id, username) = linked ?? default;
        if (linked is null)
        {
            var byEmail = await db.QuerySingleOrDefaultAsync<(long, string)?>("SELECT id, username FROM users WHERE lower(email) = lower(@email)", new { email });
            if (byEmail is { } found) (id, username) = found;
            else if (!o.AutoCreateUsers) return (null, null, "no_such_user");
            else
            {
                username = await FreeUsernameAsync(db, principal.FindFirst("preferred_username")?.Value ?? email[..email.IndexOf('@')]);
                // Unusable password: this user signs in through the provider (an admin may set one later).
                var hash = services.GetRequiredService<PasswordHasher>().Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
                id = await db.QuerySingleAsync<long>(
                    "INSERT INTO users (username, email, password_hash, role, status) VALUES (@username, @email, @hash, @role, 'active') RETURNING id",
                    new { username, email, hash, role });
                services.GetRequiredService<AuditLog>().Record(new AuditEvent("user.created", "user", id.ToString(CultureInfo.InvariantCulture),
                    new { username, role, provider = OidcSetup.Scheme }) { Actor = username });
            }
            await db.ExecuteAsync("INSERT INTO user_identities (issuer, subject, user_id) VALUES (@issuer, @subject, @id)", new { issuer, subject, id });
        }
        var before = await db.QuerySingleAsync<string>("SELECT role FROM users WHERE id = @id", new { id });
        if (before != role)
        {
            // As a role change through the users API: never the last active admin demoted (the provider's demotion is
            // refused, audited, and the sign-in goes on with the role kept, so the server is never left without an
            // admin by a group edit at the provider), and a new role ends the user's access tokens (they act with it).
            await db.OpenAsync();
            await using var tx = await db.BeginTransactionAsync();
            var changed = await db.ExecuteAsync("""
                UPDATE users SET role = @role, updated_at = @now
                WHERE id = @id AND (@role = 'admin' OR NOT (role = 'admin' AND status = 'active')
                    OR EXISTS (SELECT 1 FROM users other WHERE other.role = 'admin' AND other.status = 'active' AND other.id <> @id))
                """, new { id, role, now = Timestamp.Now(services.GetRequiredService<TimeProvider>()) }, tx);
            if (changed == 1) await db.ExecuteAsync(AccessTokens.EndAllSql, new { id }, tx);
            await tx.CommitAsync();
            // Closed again: SignInSession opens the connection itself, and Npgsql refuses to open an open one.
            await db.CloseAsync();
            services.GetRequiredService<AuditLog>().Record(changed == 1
                ? new AuditEvent("user.role_from_provider", "user", id.ToString(CultureInfo.InvariantCulture),
                    new { username, from = before, to = role, provider = OidcSetup.Scheme }) { Actor = username }
                : new AuditEvent("user.role_from_provider_refused", "user", id.ToString(CultureInfo.InvariantCulture),
                    new { username, from = before, to = role, provider = OidcSetup.Scheme, reason = "last_active_admin" }, "failure") { Actor = username });
        }
        return (id, username, null);
    }

    private static async Task<string> FreeUsernameAsync(DbConnection db, string wanted)
    {
        var name = new string(wanted.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(40).ToArray());
        if (name.Length < 3) name = "sso-user";
        var candidate = name;
        for (var i = 2; await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE lower(username) = lower(@candidate)", new { candidate }) > 0; i++)
            candidate = $"{name}-{i}";
        return candidate;
    }
}
