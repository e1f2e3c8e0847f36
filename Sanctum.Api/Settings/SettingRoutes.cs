using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>The history and rollback routes every store has under its setting's address (admins).</summary>
public static class SettingRoutes
{
    /// <summary>Where the setting of a request is, or the field errors of its address.</summary>
    public delegate SettingAddress? Locate(HttpContext http, Errors errors);

    public static RouteGroupBuilder MapHistory(this RouteGroupBuilder group, string pattern, string name, Locate locate)
    {
        group.MapGet($"{pattern}/history", async (HttpContext http, DbConnection db, SettingsCore core) =>
                (await LocatedAsync(http, locate, at => core.HistoryAsync(db, at))).History())
            .WithName($"{name}History").RequireAdmin()
            .WithSummary("Every recorded change of the setting, newest first: who, when, old and new value (a secret's read \"changed\"); admin")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost($"{pattern}/rollback", async (HttpContext http, SettingRollback body, DbConnection db, SettingsCore core) =>
                (await LocatedAsync(http, locate, at => core.RollbackAsync(db, at, body, http))).RolledBack(row => SettingView.Of(row, core)))
            .WithName($"{name}Rollback").RequireAdmin()
            .WithSummary("Restore the value a recorded version set, as a new version (a secret too, without revealing it); version 0 is the value before the first change (204 when there was none); If-Match as for PUT; admin")
            .WriteProblems();
        return group;
    }

    private static async Task<SettingOutcome> LocatedAsync(HttpContext http, Locate locate, Func<SettingAddress, Task<SettingOutcome>> run)
    {
        var errors = new Errors();
        return locate(http, errors) is { } at && !errors.Any ? await run(at) : SettingOutcome.Invalid(errors);
    }

    public static string Route(this HttpContext http, string name) => (string)http.GetRouteValue(name)!;
}

/// <summary>A setting as rollback answers it, whatever its store: key, typed value (secrets masked), version.</summary>
public sealed record SettingView
{
    [MaxLength(ConfigKeys.MaxEnvName)]
    public required string Key { get; init; }
    public System.Text.Json.Nodes.JsonNode? Value { get; init; }
    [OneOf(typeof(ConfigValues), nameof(ConfigValues.Types))]
    public required string Type { get; init; }
    public bool IsEncrypted { get; init; }
    [MaxLength(50)]
    public required string Scope { get; init; }
    [MaxLength(100)]
    public string? ScopeId { get; init; }
    public long Version { get; init; }
    public required string UpdatedAt { get; init; }

    public static SettingView Of(StoredSetting row, SettingsCore core) => new()
    {
        Key = row.Key, Value = core.Shown(row), Type = row.Type, IsEncrypted = row.IsEncrypted, Scope = row.Scope, ScopeId = row.ScopeId,
        Version = row.Version, UpdatedAt = row.UpdatedAt,
    };
}
