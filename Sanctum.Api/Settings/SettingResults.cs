using Microsoft.AspNetCore.Http.HttpResults;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Settings;

/// <summary>Turns what the settings core did into the answer of a store's route, each store showing rows its own way.</summary>
public static class SettingResults
{
    public static Results<Ok<T>, ValidationProblem, ProblemHttpResult> Read<T>(this SettingOutcome o, Func<StoredSetting, T> show) =>
        o.Setting is { } row && o.Succeeded ? TypedResults.Ok(show(row)) : o.Errors is { } e ? Problems.Invalid(e) : Problem(o);

    public static Results<Created<T>, Ok<T>, ValidationProblem, ProblemHttpResult> Written<T>(this SettingOutcome o, Func<StoredSetting, T> show) =>
        o.Setting is { } row && o.Succeeded
            ? o.Status == StatusCodes.Status201Created ? TypedResults.Created(o.Location, show(row)) : TypedResults.Ok(show(row))
            : o.Errors is { } e ? Problems.Invalid(e) : Problem(o);

    /// <summary>A rollback: the restored setting, or 204 when the state rolled back to had no setting.</summary>
    public static Results<Ok<T>, NoContent, ValidationProblem, ProblemHttpResult> RolledBack<T>(this SettingOutcome o, Func<StoredSetting, T> show)
    {
        if (o.Setting is { } row && o.Succeeded) return TypedResults.Ok(show(row));
        if (o.Succeeded) return TypedResults.NoContent();
        return o.Errors is { } e ? Problems.Invalid(e) : Problem(o);
    }

    public static Results<NoContent, ValidationProblem, ProblemHttpResult> Deleted(this SettingOutcome o) =>
        o.Succeeded ? TypedResults.NoContent() : o.Errors is { } e ? Problems.Invalid(e) : Problem(o);

    public static Results<Ok<IReadOnlyList<SettingChange>>, ValidationProblem, ProblemHttpResult> History(this SettingOutcome o) =>
        o.Changes is { } changes ? TypedResults.Ok(changes) : o.Errors is { } e ? Problems.Invalid(e) : Problem(o);

    public static ProblemHttpResult Problem(this SettingOutcome o) => o.Status switch
    {
        StatusCodes.Status404NotFound => Problems.NotFound(o.Detail!),
        StatusCodes.Status409Conflict => Problems.Conflict(o.Detail!),
        StatusCodes.Status412PreconditionFailed => TypedResults.Problem(detail: o.Detail, statusCode: o.Status, title: "Precondition Failed",
            type: Problems.TypeBase + "stale-setting"),
        _ => TypedResults.Problem(detail: o.Detail, statusCode: o.Status, title: "Forbidden"),
    };

    /// <summary>The OpenAPI answers every settings write may give besides its success.</summary>
    public static RouteHandlerBuilder WriteProblems(this RouteHandlerBuilder builder) => builder
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status412PreconditionFailed);
}
