using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Users;

namespace Sanctum.Api.Broca;

/// <summary>
/// The platform users every agent's Broca knows (platform_profiles with their letta_users row), one list across the
/// agents; promotion of one into a Sanctum user, linked in broca_user_links; and Broca's own is_active switch.
/// </summary>
public static partial class BrocaUsersApi
{
    public const int DefaultLimit = 50, MaxLimit = 200, MaxSearch = 100, MaxText = 1000, MaxLinks = 10_000;

    public static void MapBrocaUsers(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/broca").WithTags("Broca").WithRequestExamples(BrocaExamples.All).RequireAdmin();
        group.MapGet("/users", List).WithName("ListBrocaUsers")
            .WithSummary("Platform users discovered in every agent's Broca database (admin), by agent then profile id; cursor = next_cursor")
            .Produces<BrocaUserPage>().ProducesValidationProblem();
        group.MapPost("/users/{agent}/{profileId:long}/promote", Promote).WithName("PromoteBrocaUser")
            .WithSummary("Create a Sanctum user (viewer unless role says otherwise) from a platform user and link them; the temporary password is shown once")
            .Produces<BrocaPromotion>(StatusCodes.Status201Created).ProducesValidationProblem().BrocaProblems();
        group.MapPatch("/users/{agent}/{profileId:long}", SetActive).WithName("UpdateBrocaUser")
            .WithSummary("Set Broca's letta_users.is_active of the platform user, as Broca's utool update does")
            .Produces<BrocaUser>().ProducesValidationProblem().BrocaProblems();
        group.MapGet("/links", Links).WithName("ListBrocaUserLinks")
            .WithSummary("Sanctum users linked to platform users (admin), optionally of one user").Produces<List<BrocaUserLink>>().WithMetadata(new Infrastructure.PageLimit(MaxLinks));
    }

    private const string ProfileSelect = """
        SELECT p.id AS profile_id, p.letta_user_id, p.platform, p.platform_user_id, p.username, p.display_name,
               p.created_at AS first_seen, coalesce(p.last_active, u.last_active) AS last_active, u.letta_identity_id,
               coalesce(u.is_active, 1) <> 0 AS is_active
        FROM platform_profiles p LEFT JOIN letta_users u ON u.id = p.letta_user_id
        """;

    private static async Task<IResult> List(string? agent, string? platform, string? search, int? limit, string? cursor,
        DbConnection db, BrocaDatabase brocas, HttpContext http)
    {
        var errors = new Errors();
        if (agent is not null && !FieldChecks.IsSlug(agent)) errors.Add("agent", "Must be an agent id.");
        if (platform is { Length: 0 or > 50 }) errors.Add("platform", "Must be 1 to 50 characters.");
        if (search is { Length: 0 or > MaxSearch }) errors.Add("search", $"Must be 1 to {MaxSearch} characters.");
        if (limit is not null and (< 1 or > MaxLimit)) errors.Add("limit", $"Must be from 1 to {MaxLimit}.");
        (string Agent, long After)? from = null;
        if (cursor is not null)
        {
            var colon = cursor.LastIndexOf(':');
            if (colon > 0 && FieldChecks.IsSlug(cursor[..colon]) && long.TryParse(cursor[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var after))
                from = (cursor[..colon], after);
            else errors.Add("cursor", "Must be the next_cursor of the previous page.");
        }
        if (errors.Any) return Problems.Invalid(errors);
        var take = limit ?? DefaultLimit;

        var items = new List<BrocaUser>();
        var unavailable = new List<string>();
        string? next = null;
        foreach (var home in (await BrocaHome.AllAsync(db, http.User)).Where(h => agent is null || h.AgentId == agent))
        {
            if (from is { } f && string.CompareOrdinal(home.AgentId, f.Agent) < 0) continue;
            var after = from is { } g && g.Agent == home.AgentId ? g.After : 0;
            List<BrocaUser> page;
            try
            {
                await using var broca = await brocas.OpenAsync(home, write: false, http.RequestAborted);
                var like = search is null ? null : "%" + search.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
                page = (await broca.QueryAsync<BrocaUser>($"""
                    {ProfileSelect}
                    WHERE p.id > @after AND (@platform IS NULL OR p.platform = @platform)
                      AND (@like IS NULL OR p.username LIKE @like ESCAPE '\' OR p.display_name LIKE @like ESCAPE '\' OR p.platform_user_id LIKE @like ESCAPE '\')
                    ORDER BY p.id LIMIT @take
                    """, new { after, platform, like, take = take - items.Count + 1 })).AsList();
                if (page.Count > 0)
                {
                    // One pass over messages for the whole page: Broca has no index on platform_profile_id.
                    var counts = (await broca.QueryAsync<(long Id, long Count)>("""
                        SELECT platform_profile_id, COUNT(*) FROM messages WHERE platform_profile_id BETWEEN @first AND @last GROUP BY platform_profile_id
                        """, new { first = page[0].ProfileId, last = page[^1].ProfileId })).ToDictionary(c => c.Id, c => c.Count);
                    page = page.Select(u => u with { Agent = home.AgentId, MessageCount = counts.GetValueOrDefault(u.ProfileId) }).ToList();
                }
            }
            catch (Exception e) when (BrocaDatabase.Explain(e, home) is not null)
            {
                unavailable.Add(home.AgentId);
                continue;
            }
            var room = take - items.Count;
            if (page.Count > room)
            {
                items.AddRange(page.Take(room));
                next = $"{home.AgentId}:{items[^1].ProfileId}";
                break;
            }
            items.AddRange(page);
            if (items.Count == take) { next = $"{home.AgentId}:{items[^1].ProfileId}"; break; }
        }

        if (items.Count > 0)
        {
            var links = (await db.QueryAsync<(string AgentId, long ProfileId, long UserId)>(
                $"SELECT agent_id, profile_id, user_id FROM broca_user_links WHERE agent_id {SqlDialect.Of(db).InList("@agents")}",
                new { agents = items.Select(i => i.Agent).Distinct().ToArray() })).ToDictionary(l => (l.AgentId, l.ProfileId), l => l.UserId);
            items = items.Select(i => i with { SanctumUserId = links.TryGetValue((i.Agent, i.ProfileId), out var u) ? u : null }).ToList();
        }
        return TypedResults.Ok(new BrocaUserPage(items, next, unavailable));
    }

    private static async Task<IResult> Promote(string agent, long profileId, BrocaPromote? body, DbConnection db, BrocaDatabase brocas,
        PasswordHasher hasher, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        return await BrocaResults.WithHomeAsync(db, agent, http.User, http, async home =>
        {
            BrocaUser? profile;
            await using (var broca = await brocas.OpenAsync(home, write: false, http.RequestAborted))
                profile = await broca.QuerySingleOrDefaultAsync<BrocaUser>($"{ProfileSelect} WHERE p.id = @profileId", new { profileId });
            if (profile is null) return Problems.NotFound($"Platform user {profileId} of agent '{agent}'");

            var temporary = UserRules.TemporaryPassword();
            var hash = hasher.Hash(temporary); // bcrypt is slow: outside the write lock
            await db.OpenAsync(http.RequestAborted);
            await using var tx = await db.BeginTransactionAsync(http.RequestAborted);
            if (await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM broca_user_links WHERE agent_id = @agent AND profile_id = @profileId)",
                    new { agent, profileId }, tx))
                return Problems.Conflict($"Platform user {profileId} of agent '{agent}' is already linked to a Sanctum user.");
            var username = body?.Username ?? await FreeUsernameAsync(db, tx, profile);
            if (await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(@username))", new { username }, tx))
                return Problems.Conflict($"The username '{username}' is taken.");
            var email = $"{username.ToLowerInvariant()}@{agent}.broca.invalid";
            var user = await db.QuerySingleAsync<User>($"""
                INSERT INTO users (username, email, password_hash, role, status, must_change_password, created_at, updated_at)
                VALUES (@username, @email, @hash, @role, 'active', TRUE, @now, @now)
                RETURNING {User.Columns}
                """, new { username, email, hash, role = body?.Role ?? Roles.Viewer, now = Timestamp.Now(clock) }, tx);
            await db.ExecuteAsync("""
                INSERT INTO broca_user_links (user_id, agent_id, profile_id, platform, platform_user_id, username, created_at)
                VALUES (@userId, @agent, @profileId, @platform, @platformUserId, @platformUsername, @now)
                """, new
            {
                userId = user.Id, agent, profileId, platform = profile.Platform ?? "", platformUserId = profile.PlatformUserId ?? "",
                platformUsername = profile.Username, now = Timestamp.Now(clock),
            }, tx);
            await audit.RecordAsync(new AuditEvent("broca.user.promoted", "user", user.Id.ToString(CultureInfo.InvariantCulture),
                new { agent, profile_id = profileId, platform = profile.Platform, username = user.Username, role = user.Role }), http, db, tx);
            await tx.CommitAsync(http.RequestAborted);
            return TypedResults.Created($"/api/users/{user.Id}",
                new BrocaPromotion(user, temporary, profile with { Agent = agent, SanctumUserId = user.Id }));
        });
    }

    private static async Task<IResult> SetActive(string agent, long profileId, BrocaUserUpdate body, DbConnection db, BrocaDatabase brocas,
        AuditLog audit, HttpContext http)
    {
        if (body.IsActive is not { } active) return Problems.Invalid("is_active", "Required: true or false.");
        return await BrocaResults.WithHomeAsync(db, agent, http.User, http, async home =>
        {
            await using var broca = await brocas.OpenAsync(home, write: true, http.RequestAborted);
            await using var tx = await broca.BeginTransactionAsync(http.RequestAborted);
            var lettaUser = await broca.QuerySingleOrDefaultAsync<long?>("SELECT coalesce(letta_user_id, 0) FROM platform_profiles WHERE id = @profileId",
                new { profileId }, tx);
            if (lettaUser is null) return Problems.NotFound($"Platform user {profileId} of agent '{agent}'");
            if (lettaUser == 0 || await broca.ExecuteAsync("UPDATE letta_users SET is_active = @active WHERE id = @lettaUser",
                    new { active = active ? 1 : 0, lettaUser }, tx) == 0)
                return Problems.Conflict($"Platform user {profileId} of agent '{agent}' has no Letta user in Broca's database.");
            var user = await broca.QuerySingleAsync<BrocaUser>($"{ProfileSelect} WHERE p.id = @profileId", new { profileId }, tx);
            await tx.CommitAsync(http.RequestAborted);
            audit.Record(new AuditEvent("broca.user.updated", "agent", agent, new { profile_id = profileId, is_active = active }), http);
            return TypedResults.Ok(user with { Agent = agent });
        });
    }

    private static async Task<IResult> Links(long? userId, DbConnection db) =>
        TypedResults.Ok((await db.QueryAsync<BrocaUserLink>("""
            SELECT user_id, agent_id, profile_id, platform, platform_user_id, username, created_at FROM broca_user_links
            WHERE @userId IS NULL OR user_id = @userId ORDER BY user_id, agent_id, profile_id LIMIT 10000
            """, new { userId })).AsList());

    /// <summary>The platform name (or display name, or platform id) as a username, with -2, -3... when it is taken.</summary>
    private static async Task<string> FreeUsernameAsync(DbConnection db, DbTransaction tx, BrocaUser profile)
    {
        var source = profile.Username ?? profile.DisplayName ?? $"{profile.Platform}-{profile.PlatformUserId}";
        var name = new StringBuilder();
        foreach (var c in source.Normalize(NormalizationForm.FormKD))
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-') name.Append(c);
            else if (char.IsWhiteSpace(c) && name.Length > 0 && name[^1] != '-') name.Append('-');
        var stem = name.ToString().Trim('-', '.');
        if (stem.Length < 3) stem = $"{profile.Platform ?? "user"}-{stem}".Trim('-');
        if (stem.Length < 3) stem = "broca-user";
        stem = stem.Length > 44 ? stem[..44] : stem;
        for (var n = 1; ; n++)
        {
            var candidate = n == 1 ? stem : $"{stem}-{n}";
            if (!await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower(@candidate))", new { candidate }, tx))
                return candidate;
        }
    }
}

public sealed record BrocaUser
{
    [MaxLength(BrocaUsersApi.MaxText)] public string Agent { get; init; } = "";
    public long ProfileId { get; init; }
    public long? LettaUserId { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? Platform { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? PlatformUserId { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? Username { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? DisplayName { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? FirstSeen { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? LastActive { get; init; }
    public long MessageCount { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public string? LettaIdentityId { get; init; }
    public bool IsActive { get; init; }
    public long? SanctumUserId { get; init; }
}

/// <summary>A page of discovered users, the cursor of the next one, and the agents whose Broca database could not be read.</summary>
public sealed record BrocaUserPage([property: MaxLength(BrocaUsersApi.MaxLimit)] List<BrocaUser> Items, [property: MaxLength(BrocaUsersApi.MaxText)] string? NextCursor,
    [property: Infrastructure.Items(BrocaUsersApi.MaxText), MaxLength(100)] List<string> Unavailable);

/// <summary>The body of a promotion: the role (viewer by default) and, optionally, the username to give.</summary>
public sealed record BrocaPromote
{
    [Infrastructure.OneOf(typeof(Roles))]
    public string? Role { get; init; }
    [Text(50), Pattern(UserRules.UsernamePattern, UserRules.UsernameMessage)]
    public string? Username { get; init; }
}

public sealed record BrocaUserUpdate
{
    public bool? IsActive { get; init; }
}

/// <summary>The user made, its temporary password (shown this once) and the platform user it is linked to.</summary>
public sealed record BrocaPromotion(User User, [property: MaxLength(200)] string TemporaryPassword, BrocaUser Profile);

public sealed record BrocaUserLink
{
    public long UserId { get; init; }
    public required string AgentId { get; init; }
    public long ProfileId { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public required string Platform { get; init; }
    [MaxLength(BrocaUsersApi.MaxText)] public required string PlatformUserId { get; init; }
    public string? Username { get; init; }
    public required string CreatedAt { get; init; }
}
