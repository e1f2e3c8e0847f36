namespace Sanctum.Api.Tests;

/// <summary>
/// One host for the whole run, for tests that only read what every fresh install serves the same (the OpenAPI
/// document, anonymous pages): starting a host per such test proves nothing more. A test that writes anything, signs
/// in or changes settings must have a host of its own.
/// </summary>
public static class ReadOnlyHost
{
    private static readonly Lazy<SanctumApplication> Shared = new(() =>
    {
        var app = new SanctumApplication();
        _ = app.Services;
        return app;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public static SanctumApplication App => Shared.Value;

    internal static bool Started => Shared.IsValueCreated;
}
