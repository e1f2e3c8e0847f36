using Sanctum.Api;
using Sanctum.Api.Alerts;
using Sanctum.Api.Agents;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Backups;
using Sanctum.Api.Broca;
using Sanctum.Api.Chat;
using Sanctum.Api.ChatBridge;
using Sanctum.Api.Benchmark;
using Sanctum.Api.Cli;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Events;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.Jobs;
using Sanctum.Api.Letta;
using Sanctum.Api.Logs;
using Sanctum.Api.OpenApi;
using Sanctum.Api.Pages;
using Sanctum.Api.Plugins;
using Sanctum.Api.Smcp;
using Sanctum.Api.Status;
using Sanctum.Api.Telemetry;
using Sanctum.Api.Tools;
using Sanctum.Api.Users;

// `Sanctum.Api <command>` runs one admin command (Cli/AdminCommands.cs) and exits; no command runs the server.
var command = AdminCommands.Requested(args);
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = command ? [] : args,
    // appsettings.json and the pages (the repository's top-level wwwroot/) are copied beside the binaries at build
    // time: read them from there whatever the working directory, unless a content root is given explicitly.
    ContentRootPath = ContentRoot.Given(args) ? null : AppContext.BaseDirectory,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});

// Options: code defaults, overridden by the "Sanctum" configuration section.
builder.Services.AddOptions<SanctumOptions>().BindConfiguration(SanctumOptions.Section)
    .Validate(o => o.PasswordWorkFactor is >= 4 and <= 31, "Sanctum:PasswordWorkFactor must be 4 to 31.")
    .Validate(o => o.SessionLifetime > TimeSpan.Zero, "Sanctum:SessionLifetime must be positive.")
    .Validate(o => o.PasswordHashingConcurrency >= 0 && o.PasswordHashingQueueLimit >= 0, "Sanctum:PasswordHashing* must not be negative.")
    .Validate(o => Sanctum.Api.Jobs.JobSchedule.IsKnownZone(o.TimeZone), "Sanctum:TimeZone must name a time zone such as Europe/Berlin (or be empty for UTC).")
    .Validate(o => o.Backups.MaxUploadBytes > 0 && o.Backups.MaxUncompressedBytes > 0, "Sanctum:Backups:Max* must be positive.")
    .Validate(o => Sanctum.Api.Auth.PublicOrigins.AreValid(o.PublicOrigins), "Sanctum:PublicOrigins must list origins such as https://sanctum.example.com (scheme, host, optional port).")
    .Validate(o => o.Logs.MaxBytes >= 64 * 1024 && o.Logs.MaxAge > TimeSpan.Zero, "Sanctum:Logs:MaxBytes must be at least 65536 and MaxAge positive.")
    .ValidateOnStart();
if (command) AdminCommands.ConfigureLogging(builder.Logging);
// The service's own log lines, kept in <DataDirectory>/logs for GET /api/logs (not for one-off admin commands).
else builder.Services.AddLogStore();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(new StartTime(DateTimeOffset.UtcNow));
// Security and admin events, one call per event (Audit/AuditLog.cs), into the hash-chained audit_log.
builder.Services.AddSanctumAudit();
// OpenTelemetry metrics (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set) and the service's own counters.
builder.Services.AddSanctumTelemetry(builder.Configuration);

// SQLite through Dapper, migrated by FluentMigrator at start-up.
builder.Services.AddSanctumDatabase();
// Data Protection keys under the data directory, for secrets at rest.
builder.Services.AddSanctumSecrets();
// The settings core: every store of settings, read and written in one place.
builder.Services.AddSettings();
// snake_case JSON and problem details for every error.
builder.Services.AddSanctumHttp();
// Named rate-limit policies, counted in memory (SQLite) or in the database (PostgreSQL): Infrastructure/RateLimits.cs.
builder.Services.AddSanctumRateLimits();
// Session tokens, role policies and the login rate limit.
builder.Services.AddSanctumAuth();
// Single sign-on with an OpenID provider, when Sanctum:Oidc:Authority is set.
builder.Services.AddSanctumOidc(builder.Configuration);
// Sanctum:TrustedProxies: whose X-Forwarded-For/-Proto are believed (none by default).
builder.Services.AddTrustedProxies(builder.Configuration);
// /healthz and /readyz.
builder.Services.AddSanctumHealthChecks();
// Tool instances' health checks (HTTP or TCP probes) and the runner that turns them into statuses.
builder.Services.AddInstanceHealthChecks();
// Host and process figures sampled into an hour of history in memory (GET /api/status/system).
builder.Services.AddSystemFigures();
// SMCP and Letta as peers: the MCP client, tools catalogue and plugin registry; Letta's link (PeerHttp: timeouts,
// retries of reads, a circuit breaker per peer, outbound metrics).
builder.Services.AddSmcp();
builder.Services.AddLetta();
// Hot reads (sessions, tools, agents, status, users pages) cached in memory until the next commit to the database.
builder.Services.AddResultCache();
// The OpenAPI document and Swagger UI.
builder.Services.AddSanctumOpenApi();
// The web chat bridge's actions, rate limits and error envelope under /api/v1, and the agents' relay presence: a
// relay that stops polling its inbox turns its agent Degraded.
builder.Services.AddChatBridge();
// Backups (and the gate a restore closes while it swaps the database), and the job scheduler with its kinds.
builder.Services.AddBackups();
builder.Services.AddJobs();
// Live events (GET /api/events) and the one writer of statuses that raises them.
builder.Services.AddLiveEvents();
builder.Services.AddSingleton<StatusWriter>();
// Each agent's Broca (its folder's settings.json, .env, database and logs), operated from the panel.
builder.Services.AddBroca();
// Alert channels and rules, and the loop that turns status changes, failed jobs, a broken audit chain and low disk into deliveries.
builder.Services.AddAlerts();

var app = builder.Build();
if (command) return await AdminCommands.RunAsync(args, app.Services);

if (StartupChecks.InvalidOptions(app.Services) is { } invalid)
{
    Console.Error.WriteLine(invalid);
    return 1;
}
// The seeded admin's first password depends on where the server listens (Auth/BootstrapAdmin.cs).
var bootstrap = app.Services.GetRequiredService<BootstrapAdmin>();
bootstrap.StartEarly(app.Configuration["urls"]);
// Usable data directory, this install's database, migrated; otherwise one line and exit code 1.
if (StartupChecks.Run(app.Services) is { } refusal)
{
    Console.Error.WriteLine(refusal);
    return 1;
}
bootstrap.Prepare();
app.Lifetime.ApplicationStarted.Register(bootstrap.Complete);

// The chat bridge's query form /api/v1/?action=NAME is the route /api/v1/NAME (routing runs again after the rewrite).
app.UseBridgeActionQuery();
app.UseTrustedProxies(app.Configuration);
app.UseSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
// No body is read before the caller is authenticated and authorized for the endpoint: until then the global limit.
app.UseRequestSizeLimit();
// Pages, scripts and styles; API requests never look for a file.
app.UseWhen(http => !http.Request.Path.StartsWithSegments("/api"), files => files.UseDefaultFiles().UseStaticFiles());
app.UseSanctumOpenApi();
app.UseCrossSiteRequestGuard();
app.UseMaintenanceGate();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
// Only now the endpoint's own body limit (a backup upload's), and the first read of a JSON body.
app.UseEndpointBodyLimit();
app.UseJsonTextCheck();
// PostgreSQL: a request that lost a serialization race runs again (Data/SerializationRetry.cs).
app.UseSerializationRetry();

// The control pages in wwwroot/ at clean routes; their catch-all yields to every API route.
app.MapPages();
app.MapHealth();
app.MapAuth();
app.MapTwoFactor();
app.MapPasskeys();
app.MapOidc();
app.MapAccessTokens();
app.MapTools();
app.MapToolInstances();
app.MapAgents();
app.MapAgentConfig();
app.MapStatus();
app.MapStatusHistory();
app.MapAudit();
app.MapUsers();
app.MapConfig();
app.MapEnvVars();
app.MapPlugins();
app.MapConfigurations();
app.MapChatBridge();
app.MapBackups();
app.MapJobs();
app.MapChatHistory();
app.MapEvents();
app.MapBroca();
app.MapLogs();
app.MapAlerts();
app.MapSmcp();
app.MapLetta();
// Only with Sanctum:Benchmark:Enabled=true (bench/run.sh): the constant-JSON yardstick.
app.MapBenchmark();

app.Run();
return 0;

/// <summary>Whether the command line or the environment names a content root (the test host does).</summary>
internal static class ContentRoot
{
    public static bool Given(string[] args) =>
        new ConfigurationBuilder().AddEnvironmentVariables("ASPNETCORE_").AddCommandLine(args).Build()[WebHostDefaults.ContentRootKey] is not null;
}
