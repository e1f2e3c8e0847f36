using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Backups;

/// <summary>Backups (admin): list, create, download, delete, upload, verify and restore. See <see cref="BackupStore"/>.</summary>
public static class BackupsApi
{
    public static IServiceCollection AddBackups(this IServiceCollection services) =>
        services.AddSingleton<MaintenanceGate>().AddSingleton<BackupStore>();

    public static RouteGroupBuilder MapBackups(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/backups").WithTags("Backups").RequireAdmin();
        // On PostgreSQL backups run pg_dump and pg_restore: when they are missing or fail, nothing was changed.
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (BackupToolException e)
            {
                return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
            }
        });
        var maxUpload = routes.ServiceProvider.GetRequiredService<IOptions<SanctumOptions>>().Value.Backups.MaxUploadBytes;

        group.MapGet("/", List).WithName("ListBackups").WithSummary("The stored backups, newest first");
        group.MapPost("/", Create).WithName("CreateBackup")
            .WithSummary("Back up now (online): the database (SQLite's file, or pg_dump's custom format on PostgreSQL), the Data Protection key ring and a manifest, in one .zip");
        group.MapGet("/{name}", Download).WithName("DownloadBackup").WithSummary("The backup's .zip").DenyReadTokens()
            .Produces(StatusCodes.Status200OK, contentType: "application/zip").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{name}", Delete).WithName("DeleteBackup").WithSummary("Delete a stored backup")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/upload", Upload).WithName("UploadBackup")
            .WithSummary($"Store a backup .zip sent as the body (at most Sanctum:Backups:MaxUploadBytes); it is checked completely first, and a tampered or truncated one is refused (400)")
            .Accepts<Stream>("application/zip", "application/octet-stream")
            .WithMetadata(new UploadLimit(maxUpload));
        group.MapGet("/{name}/verify", Verify).WithName("VerifyBackup")
            .WithSummary("Re-check a stored backup without restoring it: manifest checksums, PRAGMA integrity_check (on PostgreSQL: pg_restore reads it whole), schema version")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{name}/restore", Restore).WithName("RestoreBackup")
            .WithSummary("Replace the data with the backup (after a pre-restore backup); requests meanwhile wait or get 503; reports row counts per table before and after")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithMetadata(new MaintenanceGate.Bypass());
        return group;
    }

    private sealed record UploadLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;

    private static Ok<IReadOnlyList<BackupInfo>> List(BackupStore store) => TypedResults.Ok(store.List());

    private static Created<BackupInfo> Create(BackupStore store, AuditLog audit, HttpContext http)
    {
        var backup = store.Create(BackupKinds.Manual);
        audit.Record(new AuditEvent("backup.created", "backup", backup.Name, new { kind = backup.Kind, size = backup.Size }), http);
        return TypedResults.Created($"/api/backups/{backup.Name}", backup);
    }

    private static Results<FileStreamHttpResult, ProblemHttpResult> Download(string name, BackupStore store, AuditLog audit, HttpContext http)
    {
        if (store.PathOf(name) is not { } path) return NotFound(name);
        audit.Record(new AuditEvent("backup.downloaded", "backup", name), http);
        return TypedResults.File(File.OpenRead(path), "application/zip", name);
    }

    private static Results<NoContent, ProblemHttpResult> Delete(string name, BackupStore store, AuditLog audit, HttpContext http)
    {
        if (!store.Delete(name)) return NotFound(name);
        audit.Record(new AuditEvent("backup.deleted", "backup", name), http);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<BackupInfo>, ValidationProblem>> Upload(
        HttpRequest request, BackupStore store, AuditLog audit, HttpContext http, CancellationToken cancellationToken)
    {
        try
        {
            var backup = await store.ImportAsync(request.Body, cancellationToken);
            audit.Record(new AuditEvent("backup.uploaded", "backup", backup.Name, new { kind = backup.Kind, size = backup.Size, schema_version = backup.SchemaVersion }), http);
            return TypedResults.Created($"/api/backups/{backup.Name}", backup);
        }
        catch (BackupInvalidException e)
        {
            audit.Record(new AuditEvent("backup.uploaded", "backup", null, new { problems = e.Problems.Count }, "refused"), http);
            return Invalid(e);
        }
    }

    private static Results<Ok<BackupVerification>, ProblemHttpResult> Verify(string name, BackupStore store) =>
        store.PathOf(name) is null ? NotFound(name) : TypedResults.Ok(store.Verify(name));

    private static async Task<Results<Ok<RestoreReport>, ValidationProblem, ProblemHttpResult>> Restore(
        string name, BackupStore store, Database database, AuditLog audit, HttpContext http, ClaimsPrincipal user)
    {
        if (store.PathOf(name) is not { } path) return NotFound(name);
        try
        {
            var report = await store.RestoreAsync(path);
            using var db = database.Open();
            var kept = db.ExecuteScalar<bool>("SELECT EXISTS (SELECT 1 FROM user_sessions WHERE id = @id)", new { id = user.SessionId() });
            audit.Record(new AuditEvent("backup.restored", "backup", name,
                new { pre_restore = report.PreRestoreBackup, schema_version = report.SchemaVersion, tables = report.Tables.Count }), http);
            return TypedResults.Ok(report with { SessionKept = kept });
        }
        catch (BackupInvalidException e)
        {
            audit.Record(new AuditEvent("backup.restored", "backup", name, new { problems = e.Problems.Count }, "refused"), http);
            return Invalid(e);
        }
        catch (MaintenanceBusyException e)
        {
            http.Response.Headers.RetryAfter = "10";
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
        }
    }

    private static ValidationProblem Invalid(BackupInvalidException e) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["backup"] = [.. e.Problems] },
            detail: "The backup failed its checks; nothing was changed.", title: "Invalid backup");

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound(BackupStore.IsName(name) ? $"Backup '{name}'" : "That backup");
}
