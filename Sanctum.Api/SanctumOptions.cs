namespace Sanctum.Api;

/// <summary>The <c>Sanctum</c> configuration section. Defaults live here; configuration overrides them.</summary>
public sealed class SanctumOptions
{
    public const string Section = "Sanctum";

    /// <summary>Holds <c>sanctum.db</c> and the data-protection keys.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>How long a sign-in lasts.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>bcrypt cost for new password hashes (tests lower it; 12 is the production default).</summary>
    public int PasswordWorkFactor { get; set; } = 12;

    /// <summary>
    /// When set, a fresh install's admin starts with this password. Otherwise it is admin123 when the server listens on
    /// loopback only, else a random one written to &lt;DataDirectory&gt;/initial-admin-password. Either way it must be changed.
    /// </summary>
    public string? BootstrapAdminPassword { get; set; }

    /// <summary>Failed logins in a row that lock an account, and for how long.</summary>
    public int LockoutThreshold { get; set; } = 5;
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Login attempts allowed per client address per window.</summary>
    public int LoginPermitLimit { get; set; } = 10;
    public TimeSpan LoginWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Password checks and hashes (bcrypt) allowed to run at once; 0 means one less than the number of cores (at
    /// least 1), so sign-ins can never take every core. Requests beyond it wait in a queue of this length.
    /// </summary>
    public int PasswordHashingConcurrency { get; set; }
    public int PasswordHashingQueueLimit { get; set; } = 256;

    /// <summary>
    /// The origins (scheme://host[:port], comma-separated) the pages are served from, the only ones a browser may send
    /// state-changing requests from. Empty: the loopback names (localhost, 127.0.0.1, [::1]) on the bound port(s).
    /// </summary>
    public string? PublicOrigins { get; set; }

    /// <summary>
    /// Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are
    /// believed: login limits, lockout, stored addresses and the cookie's Secure flag then use the real client and
    /// scheme. Empty: forwarded headers are ignored.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>Largest request body accepted.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// On PostgreSQL: 32 random bytes (base64) that encrypt the Data Protection key ring kept in the database. Required
    /// there (the server refuses to start without it); every instance needs the same one. Unused on SQLite.
    /// </summary>
    public string? KeyRingKey { get; set; }

    /// <summary>The IANA time zone job schedules are read in (e.g. Europe/Berlin); UTC when empty.</summary>
    public string? TimeZone { get; set; }

    public BackupOptions Backups { get; set; } = new();

    public LogStoreOptions Logs { get; set; } = new();

    public SystemFiguresOptions System { get; set; } = new();

    public AlertOptions Alerts { get; set; } = new();

    /// <summary>Two-factor sign-in (Auth/TwoFactorApi.cs).</summary>
    public TwoFactorOptions TwoFactor { get; set; } = new();

    /// <summary>Single sign-on with an OpenID provider (Auth/Oidc*.cs); off while Authority is empty.</summary>
    public OidcOptions Oidc { get; set; } = new();

    /// <summary>
    /// SQLite's <c>PRAGMA synchronous</c> under WAL. Normal (the default): a commit is written to the WAL but not
    /// flushed to disk, so every acknowledged commit survives a crash of the process; only a power loss or an operating
    /// system crash may lose the last commits (never corrupting the file). Full: every commit is flushed before it is
    /// acknowledged (one fsync per write), for disks that must keep every commit through a power loss. Unused on PostgreSQL.
    /// </summary>
    public DatabaseDurability Durability { get; set; } = DatabaseDurability.Normal;

    /// <summary>
    /// On PostgreSQL: the folder holding pg_dump and pg_restore, which backups run. Empty: pg_dump on the PATH, else
    /// the newest /usr/lib/postgresql/*/bin (Debian's packages). Unused on SQLite.
    /// </summary>
    public string? PostgresBinDirectory { get; set; }
}

/// <summary><c>Sanctum:Durability</c>: what an acknowledged SQLite commit survives (see <see cref="SanctumOptions.Durability"/>).</summary>
public enum DatabaseDurability { Normal, Full }

/// <summary>The <c>Sanctum:Backups</c> section.</summary>
public sealed class BackupOptions
{
    /// <summary>Where backups are kept; empty means <c>&lt;DataDirectory&gt;/backups</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>Largest backup accepted by POST /api/backups/upload.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest total uncompressed size of a backup's files (checked before anything is extracted).</summary>
    public long MaxUncompressedBytes { get; set; } = 4L * 1024 * 1024 * 1024;
}

/// <summary>The <c>Sanctum:Logs</c> section: the service's own log store (Logs/LogStore.cs).</summary>
public sealed class LogStoreOptions
{
    /// <summary>Where the store's SQLite file lives; empty means <c>&lt;DataDirectory&gt;/logs</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>The least severe level kept (the Logging section's filters apply first).</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Information;

    /// <summary>Largest space the kept lines may take; the oldest go first beyond it.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Lines older than this are removed.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Lines waiting for the writer; beyond it new lines are dropped (and counted), never the caller slowed.</summary>
    public int QueueCapacity { get; set; } = 10_000;
}

/// <summary>The <c>Sanctum:System</c> section: host and process figures (Status/SystemFigures.cs).</summary>
public sealed class SystemFiguresOptions
{
    /// <summary>How often the figures are sampled into the in-memory history.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How much history is kept in memory.</summary>
    public TimeSpan HistoryLength { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Free space under the data directory below which the disk is "low" (a status alerts can use).</summary>
    public long LowDiskBytes { get; set; } = 1024L * 1024 * 1024;
}

/// <summary>The <c>Sanctum:Alerts</c> section: rules, channels and deliveries (Alerts/).</summary>
public sealed class AlertOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How often status_history, job_runs and the other sources are read for new events, and deliveries sent.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per delivery before it ends failed; the wait doubles from <see cref="RetryDelay"/> between them.</summary>
    public int MaxAttempts { get; set; } = 5;
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one send may take (webhook request or SMTP conversation).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the audit chain is verified for the audit.broken rule (it re-hashes the whole chain).</summary>
    public TimeSpan AuditCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A PEM certificate trusted for SMTP besides the system's (a private mail server's self-signed one).</summary>
    public string? SmtpTrustedCertificate { get; set; }
}

/// <summary>The <c>Sanctum:TwoFactor</c> section.</summary>
public sealed class TwoFactorOptions
{
    /// <summary>
    /// Who must use a second factor: None, Admins or Everyone. A required user without one still signs in, but the
    /// session reaches only their own account and the two-factor enrolment until a code is confirmed.
    /// </summary>
    public TwoFactorRequirement Require { get; set; } = TwoFactorRequirement.None;

    /// <summary>The issuer authenticator apps show beside the account name.</summary>
    public string Issuer { get; set; } = "Sanctum";
}

public enum TwoFactorRequirement { None, Admins, Everyone }

/// <summary>The <c>Sanctum:Oidc</c> section.</summary>
public sealed class OidcOptions
{
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    /// <summary>The client's secret at the provider: configuration only, never logged or returned.</summary>
    public string? ClientSecret { get; set; }
    /// <summary>Scopes asked for, separated by spaces or commas.</summary>
    public string Scopes { get; set; } = "openid email profile groups";
    public string DisplayName { get; set; } = "single sign-on";
    /// <summary>The claim that lists the user's groups.</summary>
    public string RoleClaim { get; set; } = "groups";
    /// <summary>Group name → admin, user or viewer; the highest role of the user's groups wins; no match: refused.</summary>
    public Dictionary<string, string> GroupRoles { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Email domains allowed to sign in (comma-separated); empty: any.</summary>
    public string? AllowedDomains { get; set; }
    /// <summary>Whether a first sign-in with no local user of that email creates one.</summary>
    public bool AutoCreateUsers { get; set; }
    /// <summary>False allows an http authority (a provider on loopback, tests).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>Only the provider signs in: no password form, POST /api/auth/login and password-less passkeys refused,
    /// except for <see cref="BreakGlassUser"/>. Has no effect while no provider is configured.</summary>
    public bool DisableLocalLogin { get; set; }
    /// <summary>The one local account that may still sign in with its password when local login is off (login page: /login?local=1).</summary>
    public string? BreakGlassUser { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}
