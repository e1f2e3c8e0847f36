using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sanctum.Api.Data;

/// <summary>What a database error means for the caller, the same on both engines.</summary>
public enum DbErrorKind
{
    /// <summary>Not a database error a client can cause: a bug, or the database is unreachable.</summary>
    Other,
    /// <summary>A unique key (or a rule kept like one) is taken.</summary>
    UniqueViolation,
    /// <summary>A foreign key: the row refers to a missing row, or rows refer to it.</summary>
    ForeignKeyViolation,
    /// <summary>Any other rule of the schema (CHECK, NOT NULL, a trigger's refusal, a value of the wrong form).</summary>
    ConstraintViolation,
    /// <summary>Lost a race for a lock or a serializable snapshot: trying again can succeed.</summary>
    Busy,
    /// <summary>The disk under the database is full.</summary>
    DiskFull,
}

/// <summary>A database error classified: its kind and, when the engine says, the constraint's name.</summary>
public readonly record struct DbError(DbErrorKind Kind, string? Constraint)
{
    public bool Is(DbErrorKind kind, string constraint) => Kind == kind && Constraint == constraint;
}

/// <summary>
/// The one place that reads engine error codes: SQLite's result codes and PostgreSQL's SQLSTATEs become a
/// <see cref="DbErrorKind"/>. Constraints that handlers recognise have the same name on both engines: PostgreSQL
/// reports it, and SQLite's message ends with it ("UNIQUE constraint failed: &lt;name&gt;" from a trigger).
/// </summary>
public static class DbErrors
{
    public static DbError Classify(Exception exception) => exception switch
    {
        PostgresException e => new(e.SqlState switch
        {
            PostgresErrorCodes.UniqueViolation => DbErrorKind.UniqueViolation,
            PostgresErrorCodes.ForeignKeyViolation => DbErrorKind.ForeignKeyViolation,
            PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.RaiseException
                or PostgresErrorCodes.StringDataRightTruncation or PostgresErrorCodes.InvalidTextRepresentation
                or PostgresErrorCodes.NumericValueOutOfRange
                // Text PostgreSQL cannot store (a NUL character), which SQLite would have kept.
                or PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter => DbErrorKind.ConstraintViolation,
            PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
                => DbErrorKind.Busy,
            PostgresErrorCodes.DiskFull => DbErrorKind.DiskFull,
            _ => DbErrorKind.Other,
        }, e.ConstraintName),
        SqliteException { SqliteErrorCode: 19 } e => new(
            e.SqliteExtendedErrorCode is 2067 or 1555 || e.Message.Contains("UNIQUE constraint failed", StringComparison.Ordinal) ? DbErrorKind.UniqueViolation
            : e.SqliteExtendedErrorCode == 787 ? DbErrorKind.ForeignKeyViolation
            : DbErrorKind.ConstraintViolation,
            SqliteConstraint(e.Message)),
        SqliteException { SqliteErrorCode: 5 or 6 } => new(DbErrorKind.Busy, null),
        SqliteException { SqliteErrorCode: 13 } => new(DbErrorKind.DiskFull, null),
        _ => new(DbErrorKind.Other, null),
    };

    public static bool IsBusy(Exception exception) => Classify(exception).Kind == DbErrorKind.Busy;

    /// <summary>Any error from either engine (or the driver: unreachable server, closed connection).</summary>
    public static bool IsDatabaseError(Exception exception) => exception is DbException;

    // "SQLite Error 19: 'UNIQUE constraint failed: users.username'." → "users.username"
    private static string? SqliteConstraint(string message)
    {
        var at = message.IndexOf("constraint failed: ", StringComparison.Ordinal);
        if (at < 0) return null;
        var name = message[(at + "constraint failed: ".Length)..];
        var end = name.IndexOf('\'');
        return (end < 0 ? name : name[..end]).Trim().TrimEnd('.');
    }
}
