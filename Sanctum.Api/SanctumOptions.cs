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
