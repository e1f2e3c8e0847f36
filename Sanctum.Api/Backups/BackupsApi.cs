using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

using Sanctum.Api.Events;
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
            .WithSummary($"Store a backup .zip sent as the body (at most Sanctum:Backups:MaxUploadBytes); it is checked completely first, and a tampered or truncated one is refused (400), as is one this installation did not sign unless accept_foreign=true (then it is signed afresh)")
            .Accepts<Stream>("application/zip", "application/octet-stream")
            .WithMetadata(new UploadLimit(maxUpload));
        group.MapGet("/{name}/verify", Verify).WithName("VerifyBackup")
            .WithSummary("Re-check a stored backup without restoring it: its signature (origin), manifest checksums, key files, PRAGMA integrity_check (on PostgreSQL: pg_restore reads it whole), schema version and schema objects")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{name}/restore", Restore).WithName("RestoreBackup")
            .WithSummary("Replace the data with the backup (after a pre-restore backup); requests meanwhile wait or get 503. The audit log is kept (never rewound) and records the restore; every session ends (everyone signs in again); tokens revoked since the backup stay revoked. Reports each table's rows before and after and the rows added, removed and changed. An unsigned or foreign backup needs accept_foreign=true")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithMetadata(new MaintenanceGate.Bypass());
        return group;
    }

    private const string Topic = "backups";

    private sealed record UploadLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;

    private static Ok<IReadOnlyList<BackupInfo>> List(BackupStore store) => TypedResults.Ok(store.List());

    private static Created<BackupInfo> Create(BackupStore store, AuditLog audit, HttpContext http, IEventPublisher events)
    {
        events.Publish(Topic, "backup.progress", new { operation = "create", stage = "started", by = http.User.Identity?.Name }, EventAudience.Admins);
        BackupInfo backup;
        try { backup = store.Create(BackupKinds.Manual); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            events.Publish(Topic, "backup.failed", new { operation = "create", error = e.GetType().Name }, EventAudience.Admins);
            throw;
        }
        audit.Record(new AuditEvent("backup.created", "backup", backup.Name, new { kind = backup.Kind, size = backup.Size }), http);
        events.Publish(Topic, "backup.created", backup, EventAudience.Admins);
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
        HttpRequest request, BackupStore store, AuditLog audit, HttpContext http, CancellationToken cancellationToken,
        [FromQuery(Name = "accept_foreign")] bool acceptForeign = false)
    {
        try
        {
            var backup = await store.ImportAsync(request.Body, acceptForeign, cancellationToken);
            audit.Record(new AuditEvent("backup.uploaded", "backup", backup.Name,
                new { kind = backup.Kind, size = backup.Size, schema_version = backup.SchemaVersion, accept_foreign = acceptForeign }), http);
            return TypedResults.Created($"/api/backups/{backup.Name}", backup);
        }
        catch (BackupInvalidException e)
        {
            audit.Record(new AuditEvent("backup.uploaded", "backup", null, new { problems = e.Problems.Count, origin = e.Origin }, "refused"), http);
            return Invalid(e);
        }
    }

    private static Results<Ok<BackupVerification>, ProblemHttpResult> Verify(string name, BackupStore store) =>
        store.PathOf(name) is null ? NotFound(name) : TypedResults.Ok(store.Verify(name));

    private static async Task<Results<Ok<RestoreReport>, ValidationProblem, ProblemHttpResult>> Restore(
        string name, BackupStore store, AuditLog audit, HttpContext http, ClaimsPrincipal user, IEventPublisher events,
        [FromQuery(Name = "accept_foreign")] bool acceptForeign = false)
    {
        if (store.PathOf(name) is not { } path) return NotFound(name);
        var failed = true;
        try
        {
            events.Publish(Topic, "backup.progress", new { operation = "restore", name, stage = "started", by = user.Identity?.Name }, EventAudience.Admins);
            // The store audits the restore inside the restored data (the log it carried over).
            var report = await store.RestoreAsync(path, new RestoreRequest(acceptForeign, http));
            failed = false;
            events.Publish(Topic, "backup.restored", new { name, pre_restore = report.PreRestoreBackup, schema_version = report.SchemaVersion, tables = report.Tables.Count },
                EventAudience.Admins);
            return TypedResults.Ok(report);
        }
        catch (BackupInvalidException e)
        {
            audit.Record(new AuditEvent("backup.restored", "backup", name, new { problems = e.Problems.Count, origin = e.Origin }, "refused"), http);
            return Invalid(e);
        }
        catch (MaintenanceBusyException e)
        {
            http.Response.Headers.RetryAfter = "10";
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
        }
        finally
        {
            if (failed) events.Publish(Topic, "backup.failed", new { operation = "restore", name }, EventAudience.Admins);
        }
    }

    private static ValidationProblem Invalid(BackupInvalidException e) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["backup"] = [.. e.Problems] },
            detail: "The backup failed its checks; nothing was changed.", title: "Invalid backup");

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound(BackupStore.IsName(name) ? $"Backup '{name}'" : "That backup");
}
