using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Audit;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;
using System.ComponentModel.DataAnnotations;

namespace Sanctum.Api.Auth;

/// <summary>Personal access tokens for scripts: create (shown once), list, revoke. Managed from a signed-in session only.</summary>
public static class AccessTokensApi
{
    public static RouteGroupBuilder MapAccessTokens(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth/tokens").WithTags("Auth").WithRequestExamples(AuthExamples.All).RequireAuthorization(Policies.SessionReader);

        group.MapPost("/", CreateAsync).WithName("CreateAccessToken")
            .WithSummary("Create a personal access token for scripts; the token (sanctum_pat_…) is returned this once. Send it as Authorization: Bearer; it acts with your role, and a read token only reads")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync).WithName("ListAccessTokens")
            .WithSummary("Your access tokens (never the token itself); all=true (admin) lists everyone's");
        group.MapDelete("/{id:long}", RevokeAsync).WithName("RevokeAccessToken")
            .WithSummary("Revoke one of your access tokens (admins: anyone's)").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private const string Columns = "t.id, t.user_id, u.username, t.name, t.scope, t.created_at, t.expires_at, t.last_used_at";

    private static async Task<Results<Created<CreatedAccessToken>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        AccessTokenCreate body, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var name = body.Name!.Trim();

        var userId = http.User.UserId();
        var now = clock.GetUtcNow();
        var token = AccessTokens.NewToken();
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM access_tokens WHERE user_id = @userId", new { userId }, tx) >= AccessTokens.MaxPerUser)
            return Problems.Conflict($"You already have {AccessTokens.MaxPerUser} access tokens; revoke one first.");
        var id = await db.ExecuteScalarAsync<long>("""
            INSERT INTO access_tokens (user_id, name, token_hash, scope, expires_at, created_at)
            VALUES (@userId, @name, @hash, @scope, @expires, @now) RETURNING id
            """,
            new { userId, name, hash = SessionTokens.Hash(token), scope = body.Scope, expires = Timestamp.From(now.AddDays(body.ExpiresInDays!.Value)), now = Timestamp.From(now) },
            tx);
        var row = await db.QuerySingleAsync<AccessToken>($"SELECT {Columns} FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = @id", new { id }, tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("token.created", "access_token", row.Id.ToString(CultureInfo.InvariantCulture),
            new { name, scope = body.Scope, expires_in_days = body.ExpiresInDays }), http);
        return TypedResults.Created($"/api/auth/tokens/{row.Id}", new CreatedAccessToken(row, token));
    }

    private static async Task<Results<Ok<IEnumerable<AccessToken>>, ProblemHttpResult>> ListAsync(DbConnection db, HttpContext http, bool all = false)
    {
        if (all && !http.User.IsAdmin())
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "Only admins may list everyone's tokens.");
        return TypedResults.Ok(await db.QueryAsync<AccessToken>($"""
            SELECT {Columns} FROM access_tokens t JOIN users u ON u.id = t.user_id
            WHERE @all OR t.user_id = @userId
            ORDER BY t.created_at DESC, t.id DESC
            """, new { all, userId = http.User.UserId() }));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(long id, DbConnection db, AuditLog audit, HttpContext http)
    {
        var owner = await db.QuerySingleOrDefaultAsync<long?>(
            "DELETE FROM access_tokens WHERE id = @id AND (@admin OR user_id = @userId) RETURNING user_id",
            new { id, admin = http.User.IsAdmin(), userId = http.User.UserId() });
        if (owner is null) return Problems.NotFound($"Access token {id}");
        audit.Record(new AuditEvent("token.revoked", "access_token", id.ToString(CultureInfo.InvariantCulture), new { owner_id = owner }), http);
        return TypedResults.NoContent();
    }
}

/// <summary>The body of POST /api/auth/tokens.</summary>
public sealed record AccessTokenCreate
{
    /// <summary>What the token is for, 1 to 100 printable characters.</summary>
    [RequiredField, Text(AccessTokens.MaxName, SingleLine = true)]
    public string? Name { get; init; }
    /// <summary>1 to 365.</summary>
    [RequiredField, Between(1, AccessTokens.MaxDays)]
    public int? ExpiresInDays { get; init; }
    /// <summary>read (GET only) or write (everything the owner's role allows).</summary>
    [RequiredField, OneOf(typeof(AccessTokens), nameof(AccessTokens.Scopes))]
    public string? Scope { get; init; }
}

/// <summary>An access token as listed: never the token itself.</summary>
public record AccessToken
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public required string Username { get; init; }
    [MaxLength(AccessTokens.MaxName)]
    public required string Name { get; init; }
    [OneOf(typeof(AccessTokens), nameof(AccessTokens.Scopes))]
    public required string Scope { get; init; }
    public required string CreatedAt { get; init; }
    public required string ExpiresAt { get; init; }
    public string? LastUsedAt { get; init; }
}

/// <summary>A new access token with the token itself, shown this once.</summary>
public sealed record CreatedAccessToken : AccessToken
{
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public CreatedAccessToken(AccessToken row, string token) : base(row) => Token = token;

    [MaxLength(55), RegularExpression("^sanctum_pat_[A-Za-z0-9_-]{43}$")]
    public string Token { get; init; }
}
