namespace Sanctum.Api.Data;

/// <summary>
/// Work a feature registers to run once the database is migrated, before the service answers (the chat keys' first
/// values: Settings/SettingsSetup.cs). <see cref="StartupChecks"/> runs each; instances starting together each try, one
/// does it, the others lose a serialization race and run it again, seeing it done.
/// </summary>
public sealed record AfterMigration(Func<IServiceProvider, Task> RunAsync);
