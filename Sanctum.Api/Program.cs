using Sanctum.Api;
using Sanctum.Api.Agents;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.ChatBridge;
using Sanctum.Api.Benchmark;
using Sanctum.Api.Config;
using Sanctum.Api.Configurations;
using Sanctum.Api.Data;
using Sanctum.Api.Health;
using Sanctum.Api.Infrastructure;
using Sanctum.Api.OpenApi;
using Sanctum.Api.Pages;
using Sanctum.Api.Plugins;
using Sanctum.Api.Status;
using Sanctum.Api.Tools;
using Sanctum.Api.Users;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The pages live in the repository's top-level wwwroot/, copied beside the binaries at build time.
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});

// Options: code defaults, overridden by the "Sanctum" configuration section.
builder.Services.AddOptions<SanctumOptions>().BindConfiguration(SanctumOptions.Section)
    .Validate(o => o.PasswordWorkFactor is >= 4 and <= 31, "Sanctum:PasswordWorkFactor must be 4 to 31.")
    .Validate(o => o.SessionLifetime > TimeSpan.Zero, "Sanctum:SessionLifetime must be positive.")
    .Validate(o => o.PasswordHashingConcurrency >= 0 && o.PasswordHashingQueueLimit >= 0, "Sanctum:PasswordHashing* must not be negative.")
    .ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(new StartTime(DateTimeOffset.UtcNow));
// Security and admin events, one call per event (Audit/AuditLog.cs).
builder.Services.AddSingleton<AuditLog>();

// SQLite through Dapper, migrated by FluentMigrator at start-up.
builder.Services.AddSanctumDatabase();
// Data Protection keys under the data directory, for secrets at rest.
builder.Services.AddSanctumSecrets();
// snake_case JSON and problem details for every error.
builder.Services.AddSanctumHttp();
// Session tokens, role policies and the login rate limiter.
builder.Services.AddSanctumAuth();
// /healthz and /readyz.
builder.Services.AddSanctumHealthChecks();
// The tools list, cached in memory until the next commit to the database.
builder.Services.AddToolListCache();
// The OpenAPI document and Swagger UI.
builder.Services.AddSanctumOpenApi();
// The web chat bridge's actions, rate limits and error envelope under /api/v1.
builder.Services.AddChatBridge();

var app = builder.Build();

app.Services.MigrateDatabase();
app.Services.EnsureChatKeys();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestSizeLimit();
// Pages, scripts and styles; API requests never look for a file.
app.UseWhen(http => !http.Request.Path.StartsWithSegments("/api"), files => files.UseDefaultFiles().UseStaticFiles());
app.UseSanctumOpenApi();
app.UseCrossSiteRequestGuard();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

// The control pages in wwwroot/ at clean routes; their catch-all yields to every API route.
app.MapPages();
app.MapHealth();
app.MapAuth();
app.MapTools();
app.MapToolInstances();
app.MapAgents();
app.MapAgentConfig();
app.MapStatus();
app.MapUsers();
app.MapConfig();
app.MapEnvVars();
app.MapPlugins();
app.MapConfigurations();
app.MapChatBridge();
// Only with Sanctum:Benchmark:Enabled=true (bench/run.sh): the constant-JSON yardstick.
app.MapBenchmark();

app.Run();
