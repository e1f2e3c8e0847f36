using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

using Sanctum.Api.Events;
namespace Sanctum.Api.Users;

/// <summary>User management (admin). password_hash never leaves the server: every query selects <see cref="User.Columns"/>.</summary>
public static class UsersApi
{
    public static RouteGroupBuilder MapUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/users").WithTags("Users").WithRequestExamples(UserExamples.All).RequireAdmin();

        group.MapGet("/", List).WithName("ListUsers").Paged(MaxLimit)
            .WithSummary("Users by username, paged; search matches username or email (case-insensitive); filter by role and status (status=locked also finds users whose failed-login lockout is running)");
        group.MapGet("/{id:long}", Get).WithName("GetUser").WithSummary("One user").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/", Create).WithName("CreateUser")
            .WithSummary("Add a user; without a password a temporary one is generated, returned once as temporary_password, and must be changed")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPatch("/{id:long}", Patch).WithName("UpdateUser")
            .WithSummary("Change email, role or status; leaving active ends the user's sessions and access tokens, a new role ends the access tokens; the last active admin stays (409)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{id:long}", Delete).WithName("DeactivateUser")
            .WithSummary("Deactivate a user (status inactive) and end their sessions and access tokens; the last active admin stays (409)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id:long}/password", ResetPassword).WithName("ResetUserPassword")
            .WithSummary("Set a new (or generated temporary) password that must be changed at next sign-in; clears the lockout, ends sessions and access tokens")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:long}/unlock", Unlock).WithName("UnlockUser")
            .WithSummary("Clear the failed-login lockout (and a locked status)").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public const int DefaultLimit = 50, MaxLimit = 200, MaxSearch = 100;

    private const string ByIdSql = $"SELECT {User.Columns} FROM users WHERE id = @id";

    // What a password reset and an unlock both do: forget failed logins, end a lock, reactivate a locked account.
    private const string ClearLockout = "failed_login_attempts = 0, locked_until = NULL, status = CASE WHEN status = 'locked' THEN 'active' ELSE status END";

    // Only the active admins other than @id: while one exists, @id may stop being an active admin.
    private const string AnotherActiveAdmin = "EXISTS (SELECT 1 FROM users other WHERE other.role = 'admin' AND other.status = 'active' AND other.id <> @id)";

    private static async Task<Results<JsonBody<UserPage>, ValidationProblem>> List(
        DbConnection db, ResultCache cache, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, TimeProvider clock, [Text(MaxSearch)] string? search = null,
        [OneOf(typeof(Roles))] string? role = null, [OneOf(typeof(UserStatuses))] string? status = null, int? limit = null, int? offset = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (offset is < 0) errors.Add("offset", "Must be 0 or more.");
        if (errors.Any) return Problems.Invalid(errors);

        var query = new PageQuery(search, role, status, limit ?? DefaultLimit, offset ?? 0);
        // status=locked also compares locked_until with the clock, so only that answer can change without a commit.
        var options = json.Value.SerializerOptions;
        return status == UserStatuses.Locked
            ? new JsonBody<UserPage>(await PageAsync(db, query, clock), options)
            : await cache.GetAsync(query, async q => new JsonBody<UserPage>(await PageAsync(db, q, clock), options));
    }

    /// <summary>Read through two partial indexes (ix_users_locked, ix_users_locked_until), not by reading every user.</summary>
    public const string LockedFilter = "(status = 'locked' OR locked_until > @now)";

    /// <summary>A users list query, also the key of its cached page.</summary>
    private sealed record PageQuery(string? Search, string? Role, string? Status, int Limit, int Offset);

    private static async Task<UserPage> PageAsync(DbConnection db, PageQuery query, TimeProvider clock)
    {
        var (search, role, status) = (query.Search, query.Role, query.Status);
        // Terms of 3+ characters use the engine's trigram index (Phase 2; SqlDialect.UserSearch), a case-insensitive
        // substring match. Shorter ones scan with a case-insensitive LIKE, where % and _ are matched literally.
        var dialect = SqlDialect.Of(db);
        var useIndex = search is { Length: >= 3 };
        var phrase = useIndex ? dialect.UserSearchPhrase(search!) : null;
        var pattern = string.IsNullOrEmpty(search) || useIndex ? null : "%" + SqlDialect.EscapeLike(search) + "%";
        var args = new { phrase, pattern, role, status, limit = query.Limit, offset = query.Offset, now = Timestamp.Now(clock) };
        // Only the filters given, not (@x IS NULL OR ...): SQLite plans a statement before it sees the parameters, so
        // the catch-all form scanned all rows to count them even with no filter at all (20 ms at p50 on 100,000 users,
        // bench/RESULTS.md), where COUNT(*) alone reads the smallest index. The fragments are constants.
        var filters = new[]
        {
            phrase is null ? null : dialect.UserSearch,
            pattern is null ? null : $@"(username {dialect.CaseInsensitiveLike} @pattern ESCAPE '\' OR email {dialect.CaseInsensitiveLike} @pattern ESCAPE '\')",
            role is null ? null : "role = @role",
            // "locked" also finds the users whose lockout after failed sign-ins is running (their status stays active).
            status is null ? null : status == UserStatuses.Locked ? LockedFilter : "status = @status",
        }.OfType<string>().ToList();
        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);
        var total = await db.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM users {where}", args);
        var items = (await db.QueryAsync<User>($"SELECT {User.Columns} FROM users {where} ORDER BY username LIMIT @limit OFFSET @offset", args)).AsList();
        var factors = await Auth.UserFactorsSql.ReadAsync(db, items.Select(u => u.Id).ToArray());
        return new UserPage(items.Select(u => new ListedUser(u, factors.GetValueOrDefault(u.Id) ?? UserFactors.None)).ToList(), total, args.limit, args.offset);
    }

    private static async Task<Results<Ok<User>, ProblemHttpResult>> Get(long id, DbConnection db) =>
        await db.QuerySingleOrDefaultAsync<User>(ByIdSql, new { id }) is { } user ? TypedResults.Ok(user) : Problems.NotFound($"User {id}");

    private static async Task<Results<Created<UserWithPassword>, ValidationProblem, ProblemHttpResult>> Create(
        UserCreate body, DbConnection db, PasswordHasher hasher, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var errors = new Errors().Required("username", body.Username).Required("email", body.Email).OptionalPassword(body.Password, body.Username, body.Email);
        if (errors.Any) return Problems.Invalid(errors);

        var temporary = string.IsNullOrEmpty(body.Password) ? UserRules.TemporaryPassword() : null;
        var hash = hasher.Hash(temporary ?? body.Password!); // bcrypt is slow: outside the write lock

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await ClashAsync(db, tx, 0, body.Username, body.Email) is { } clash) return clash;
        var user = await db.QuerySingleAsync<UserWithPassword>($"""
            INSERT INTO users (username, email, password_hash, role, status, must_change_password, created_at, updated_at)
            VALUES (@username, @email, @hash, @role, 'active', @mustChange, @now, @now)
            RETURNING {User.Columns}
            """,
            new { username = body.Username, email = body.Email, hash, role = body.Role ?? Roles.User, mustChange = temporary is not null, now = Timestamp.Now(clock) },
            tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("user.created", "user", Id(user.Id), new { username = user.Username, role = user.Role, temporary_password = temporary is not null }), http);
        return TypedResults.Created($"/api/users/{user.Id}", user with { TemporaryPassword = temporary });
    }

    private static async Task<Results<Ok<User>, ValidationProblem, ProblemHttpResult>> Patch(
        long id, UserUpdate body, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http, IEventPublisher events)
    {

        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var before = await db.QuerySingleOrDefaultAsync<User>(ByIdSql, new { id }, tx);
        if (before is null) return Problems.NotFound($"User {id}");
        if (await ClashAsync(db, tx, id, null, body.Email) is { } clash) return clash;

        // One guarded statement in a write transaction that runs as if alone (SQLite: BEGIN IMMEDIATE; PostgreSQL:
        // SERIALIZABLE, a lost race retried by SerializationRetry): two concurrent demotions cannot both see the other admin.
        var user = await db.QuerySingleOrDefaultAsync<User>($"""
            UPDATE users SET email = coalesce(@email, email), role = coalesce(@role, role), status = coalesce(@status, status), updated_at = @now
            WHERE id = @id
              AND ((coalesce(@role, role) = 'admin' AND coalesce(@status, status) = 'active')
                   OR NOT (role = 'admin' AND status = 'active')
                   OR {AnotherActiveAdmin})
            RETURNING {User.Columns}
            """,
            new { id, email = body.Email, role = body.Role, status = body.Status, now = Timestamp.Now(clock) }, tx);
        if (user is null) return LastAdmin();
        if (user.Status != UserStatuses.Active) await EndSessionsAsync(db, tx, id);
        // A token acts with its owner's role: a new role (up or down) or leaving active ends them all.
        if (user.Status != UserStatuses.Active || user.Role != before.Role) await db.ExecuteAsync(AccessTokens.EndAllSql, new { id }, tx);
        await tx.CommitAsync();
        var changed = new[] { ("email", before.Email != user.Email), ("role", before.Role != user.Role), ("status", before.Status != user.Status) }
            .Where(f => f.Item2).Select(f => f.Item1).ToArray();
        audit.Record(new AuditEvent("user.updated", "user", Id(id), new { username = user.Username, fields = changed }), http);
        if (before.Role != user.Role)
            audit.Record(new AuditEvent("user.role.changed", "user", Id(id), new { username = user.Username, from = before.Role, to = user.Role }), http);
        if (before.Status != user.Status)
            audit.Record(new AuditEvent("user.status.changed", "user", Id(id), new { username = user.Username, from = before.Status, to = user.Status }), http);
        events.Publish("users", "user.updated", new { user_id = id, username = user.Username, fields = changed, by = http.User.Identity?.Name }, EventAudience.Admins);
        return TypedResults.Ok(user);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(long id, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http,
        IEventPublisher events)
    {
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var changed = await db.ExecuteAsync($"""
            UPDATE users SET status = 'inactive', updated_at = @now
            WHERE id = @id AND (NOT (role = 'admin' AND status = 'active') OR {AnotherActiveAdmin})
            """, new { id, now = Timestamp.Now(clock) }, tx);
        if (changed == 0) return (await ExistsAsync(db, tx, id)) ? LastAdmin() : Problems.NotFound($"User {id}");
        await EndSessionsAsync(db, tx, id);
        await db.ExecuteAsync(AccessTokens.EndAllSql, new { id }, tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("user.status.changed", "user", Id(id), new { to = UserStatuses.Inactive }), http);
        events.Publish("users", "user.updated", new { user_id = id, fields = new[] { "status" }, by = http.User.Identity?.Name }, EventAudience.Admins);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserWithPassword>, ValidationProblem, ProblemHttpResult>> ResetPassword(
        long id, PasswordReset? body, DbConnection db, PasswordHasher hasher, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var account = await db.QuerySingleOrDefaultAsync<(string Username, string Email)>("SELECT username, email FROM users WHERE id = @id", new { id });
        var errors = new Errors().OptionalPassword(body?.Password, account.Username, account.Email);
        if (errors.Any) return Problems.Invalid(errors);
        if (account.Username is null) return Problems.NotFound($"User {id}");

        var temporary = string.IsNullOrEmpty(body?.Password) ? UserRules.TemporaryPassword() : null;
        var hash = hasher.Hash(temporary ?? body!.Password!);

        var user = await SetPasswordAsync<UserWithPassword>(db, id, hash, clock);
        if (user is null) return Problems.NotFound($"User {id}");
        audit.Record(new AuditEvent("user.password.reset", "user", Id(id), new { username = user.Username, temporary_password = temporary is not null }), http);
        return TypedResults.Ok(user with { TemporaryPassword = temporary });
    }

    /// <summary>
    /// Sets a password hash that must be changed at next sign-in, clears the lockout and ends the user's sessions and tokens, in one
    /// transaction (the API's reset and the reset-admin-password command). Null when there is no user <paramref name="id"/>.
    /// </summary>
    public static async Task<T?> SetPasswordAsync<T>(DbConnection db, long id, string hash, TimeProvider clock) where T : User
    {
        if (db.State != System.Data.ConnectionState.Open) await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var user = await db.QuerySingleOrDefaultAsync<T>($"""
            UPDATE users SET password_hash = @hash, must_change_password = TRUE, {ClearLockout}, updated_at = @now
            WHERE id = @id
            RETURNING {User.Columns}
            """, new { id, hash, now = Timestamp.Now(clock) }, tx);
        if (user is null) return null;
        await EndSessionsAsync(db, tx, id);
        await db.ExecuteAsync(AccessTokens.EndAllSql, new { id }, tx);
        await tx.CommitAsync();
        return user;
    }

    private static async Task<Results<Ok<User>, ProblemHttpResult>> Unlock(long id, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var user = await db.QuerySingleOrDefaultAsync<User>($"""
            UPDATE users SET {ClearLockout}, updated_at = @now
            WHERE id = @id
            RETURNING {User.Columns}
            """, new { id, now = Timestamp.Now(clock) });
        if (user is null) return Problems.NotFound($"User {id}");
        audit.Record(new AuditEvent("user.unlocked", "user", Id(id), new { username = user.Username }), http);
        return TypedResults.Ok(user);
    }

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<bool> ExistsAsync(DbConnection db, DbTransaction? tx, long id) =>
        await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM users WHERE id = @id)", new { id }, tx);

    /// <summary>409 when another user already has the username or email, compared regardless of case.</summary>
    private static async Task<ProblemHttpResult?> ClashAsync(DbConnection db, DbTransaction tx, long id, string? username, string? email)
    {
        if (username is not null && await db.ExecuteScalarAsync<bool>(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(@username) AND id <> @id)", new { username, id }, tx))
            return Problems.Conflict($"The username '{username}' is already taken.");
        if (email is not null && await db.ExecuteScalarAsync<bool>(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(@email) AND id <> @id)", new { email, id }, tx))
            return Problems.Conflict($"The email '{email}' is already in use.");
        return null;
    }

    private static async Task EndSessionsAsync(DbConnection db, DbTransaction tx, long id) =>
        await db.ExecuteAsync("DELETE FROM user_sessions WHERE user_id = @id", new { id }, tx);

    private static ProblemHttpResult LastAdmin() =>
        Problems.Conflict("This is the last active admin: make another user an active admin first.");
}
