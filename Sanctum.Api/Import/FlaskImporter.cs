using System.Data.Common;
using Sanctum.Api.Auth;
using Sanctum.Api.Data;
using Sanctum.Api.Settings;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Import;

/// <summary>What every table's import step shares: the two databases, the one target transaction, and the report.</summary>
public sealed class ImportContext(
    FlaskSource source, DbConnection target, DbTransaction transaction, Secrets secrets, SettingsCore settings, PasswordHasher passwords, string now)
{
    public FlaskSource Source { get; } = source;
    public DbConnection Target { get; } = target;
    public DbTransaction Transaction { get; } = transaction;
    public Secrets Secrets { get; } = secrets;
    public SettingsCore Settings { get; } = settings;
    public PasswordHasher Passwords { get; } = passwords;
    /// <summary>What to do once the transaction has committed (audit records of settings changed); never in a dry run.</summary>
    public List<Action> AfterCommit { get; } = [];
    /// <summary>The import's time, in the stored form.</summary>
    public string Now { get; } = now;
    public ImportReport Report { get; } = new();
    /// <summary>Old user id to this database's user id, for every old user that has a row here (imported or already present).</summary>
    public Dictionary<long, long> UserIds { get; } = [];

    /// <summary>An old timestamp in the stored form, or <paramref name="fallback"/> when it is missing or unreadable.</summary>
    public static string Time(string? old, string fallback) => Timestamp.TryNormalize(old, out var time) ? time : fallback;

    public static string? Time(string? old) => Timestamp.TryNormalize(old, out var time) ? time : null;

    /// <summary>The text when it is valid JSON, else null.</summary>
    public static string? Json(string? text) => ConfigValues.IsJson(text) ? text : null;
}

/// <summary>
/// Moves the Flask control panel's users, agents, settings and web chat into this database, inside the caller's one
/// transaction. Each step reads the rows already here first, so a second run finds everything in place and adds nothing.
/// </summary>
public static class FlaskImporter
{
    public static async Task<ImportReport> RunAsync(ImportContext context)
    {
        UserImport.Run(context);
        AgentImport.Run(context);
        await SettingImport.RunAsync(context);
        ChatImport.Run(context);
        context.Report.Notes.Add("user_sessions, rate_limits and schema_version are not imported: everyone signs in again here.");
        return context.Report;
    }
}
