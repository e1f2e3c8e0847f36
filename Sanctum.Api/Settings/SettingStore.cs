namespace Sanctum.Api.Settings;

/// <summary>
/// One of the four tables that hold settings, described by its columns, so that one core reads, writes and records
/// them all. Each keeps its table and its routes; what differs is only which columns it has and who owns a row.
/// </summary>
public sealed class SettingStore
{
    public required string Name { get; init; }
    public required string KeyColumn { get; init; }
    public required string ValueColumn { get; init; }
    /// <summary>Null for a store whose values are all text (env_vars).</summary>
    public string? TypeColumn { get; init; }
    public string? DescriptionColumn { get; init; }
    public string? CategoryColumn { get; init; }
    /// <summary>Where a bearer key's SHA-256 goes, for stores that hold chat bridge keys.</summary>
    public string? DigestColumn { get; init; }
    public string? CreatedByColumn { get; init; }
    /// <summary>The owner's condition, unqualified, over @scope and @scopeId.</summary>
    public string OwnerWhere { get; init; } = "1 = 1";
    /// <summary>The owner's scope and scope id as expressions over the row alias t.</summary>
    public string ScopeOf { get; init; } = "'system'";
    public string ScopeIdOf { get; init; } = "NULL";
    /// <summary>The owner's columns and their parameters in an INSERT ("" when a row has no owner).</summary>
    public string OwnerColumns { get; init; } = "";
    public string OwnerValues { get; init; } = "";
    /// <summary>The JSON name of the key in errors: key, or name for environment variables.</summary>
    public string KeyField { get; init; } = "key";
    /// <summary>Why a key is not acceptable in this store, or null: the shared rule unless the store names its own.</summary>
    public Func<string, string?> KeyProblem { get; init; } = SharedKeyProblem;

    /// <summary>The one key rule of the settings stores (environment variable names follow the shell's rule instead).</summary>
    public static string? SharedKeyProblem(string key) =>
        ConfigKeys.IsKey(key) ? null : "Must be 1 to 100 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'.";
    /// <summary>How a 404 names a setting of this store.</summary>
    public required Func<SettingAddress, string> Describe { get; init; }
    /// <summary>Where a setting of this store is read and written.</summary>
    public required Func<SettingAddress, string> Location { get; init; }

    /// <summary>Known keys (the catalogue) apply to stores whose values are typed.</summary>
    public bool Typed => TypeColumn is not null;

    /// <summary>
    /// Every row of the store in one shape: key, value, type, category, description, is_encrypted, created_by, times,
    /// scope, scope_id and version (the latest recorded change, 0 before any). Add WHERE and ORDER BY after it.
    /// </summary>
    public string Select => $"""
        SELECT t.id, t.{KeyColumn} AS key, t.{ValueColumn} AS value, {Column(TypeColumn, "'string'")} AS type,
               {Column(CategoryColumn)} AS category, {Column(DescriptionColumn)} AS description, t.is_encrypted,
               {Column(CreatedByColumn)} AS created_by, t.created_at, t.updated_at, {ScopeOf} AS scope, {ScopeIdOf} AS scope_id,
               coalesce((SELECT MAX(h.version) FROM setting_history h
                         WHERE h.store = '{Name}' AND h.key = t.{KeyColumn} AND h.scope = {ScopeOf} AND coalesce(h.scope_id, '') = coalesce({ScopeIdOf}, '')), 0) AS version
        FROM {Name} t
        """;

    public string FindSql => $"{Select} WHERE {OwnerWhere} AND t.{KeyColumn} = @key";

    /// <summary>One setting's stored text and whether it is encrypted, without its version (for readers on a hot path).</summary>
    public string ValueSql => $"SELECT t.{ValueColumn} AS value, t.is_encrypted FROM {Name} t WHERE {OwnerWhere} AND t.{KeyColumn} = @key";

    public string InsertSql => $"""
        INSERT INTO {Name} ({OwnerColumns}{KeyColumn}, {ValueColumn}, {Optional(TypeColumn)}{Optional(DescriptionColumn)}{Optional(CategoryColumn)}{Optional(DigestColumn)}{Optional(CreatedByColumn)}is_encrypted, created_at, updated_at)
        VALUES ({OwnerValues}@key, @value, {Optional(TypeColumn, "@type")}{Optional(DescriptionColumn, "@description")}{Optional(CategoryColumn, "@category")}{Optional(DigestColumn, "@digest")}{Optional(CreatedByColumn, "@createdBy")}@encrypted, @now, @now)
        """;

    public string UpdateSql => $"""
        UPDATE {Name} SET {ValueColumn} = @value, {Set(TypeColumn, "@type")}{Set(DescriptionColumn, "@description")}{Set(CategoryColumn, "@category")}{Set(DigestColumn, "@digest")}is_encrypted = @encrypted, updated_at = @now
        WHERE {OwnerWhere} AND {KeyColumn} = @key
        """;

    public string DeleteSql => $"DELETE FROM {Name} WHERE {OwnerWhere} AND {KeyColumn} = @key";

    private static string Column(string? column, string absent = "NULL") => column is null ? absent : "t." + column;

    private static string Optional(string? column, string? value = null) => column is null ? "" : (value ?? column) + ", ";

    private static string Set(string? column, string value) => column is null ? "" : $"{column} = {value}, ";

    public static readonly SettingStore SystemConfig = new()
    {
        Name = "system_config", KeyColumn = "config_key", ValueColumn = "config_value", TypeColumn = "config_type",
        DescriptionColumn = "description", CategoryColumn = "category", DigestColumn = "value_digest",
        KeyProblem = key => SharedKeyProblem(key)
            ?? (ReservedSystemKeys.Contains(key) ? $"'{key}' is the name of a route under /api/config, not a usable key." : null),
        Describe = at => $"Setting '{at.Key}'",
        Location = at => $"/api/config/{Uri.EscapeDataString(at.Key)}",
    };

    /// <summary>Literal routes under /api/config that a key of the same name could never be read back through.</summary>
    public static readonly string[] ReservedSystemKeys = ["env", "categories", "effective", "schema"];

    public static readonly SettingStore EnvVars = new()
    {
        Name = "env_vars", KeyColumn = "var_name", ValueColumn = "var_value", DescriptionColumn = "description", KeyField = "name",
        KeyProblem = name => ConfigKeys.IsEnvName(name) ? null
            : $"Must match {ConfigKeys.EnvNamePattern} (letters, digits and '_', not starting with a digit), at most {ConfigKeys.MaxEnvName} characters.",
        Describe = at => $"Environment variable '{at.Key}'",
        Location = at => $"/api/config/env/{Uri.EscapeDataString(at.Key)}",
    };

    public static readonly SettingStore AgentConfigs = new()
    {
        Name = "agent_configs", KeyColumn = "config_key", ValueColumn = "config_value", TypeColumn = "config_type", DigestColumn = "value_digest",
        OwnerWhere = "agent_id = @scopeId", ScopeOf = "'agent'", ScopeIdOf = "t.agent_id", OwnerColumns = "agent_id, ", OwnerValues = "@scopeId, ",
        Describe = at => $"Setting '{at.Key}' of agent '{at.ScopeId}'",
        Location = at => $"/api/agents/{Uri.EscapeDataString(at.ScopeId!)}/config/{Uri.EscapeDataString(at.Key)}",
    };

    public static readonly SettingStore Configurations = new()
    {
        Name = "configurations", KeyColumn = "key", ValueColumn = "value", TypeColumn = "type", DescriptionColumn = "description",
        CreatedByColumn = "created_by",
        OwnerWhere = "scope = @scope AND scope_id IS NOT DISTINCT FROM @scopeId", ScopeOf = "t.scope", ScopeIdOf = "t.scope_id",
        OwnerColumns = "scope, scope_id, ", OwnerValues = "@scope, @scopeId, ",
        Describe = at => $"Configuration '{at.Key}' ({(at.ScopeId is null ? at.Scope : $"{at.Scope} {at.ScopeId}")})",
        Location = at => at.ScopeId is null
            ? $"/api/configurations/system/{Uri.EscapeDataString(at.Key)}"
            : $"/api/configurations/{at.Scope}/{Uri.EscapeDataString(at.ScopeId)}/{Uri.EscapeDataString(at.Key)}",
    };
}

/// <summary>Where one setting lives: its store, its owner (scope and scope id) and its key.</summary>
public sealed record SettingAddress(SettingStore Store, string Scope, string? ScopeId, string Key)
{
    public static SettingAddress System(string key) => new(SettingStore.SystemConfig, "system", null, key);
    public static SettingAddress Env(string name) => new(SettingStore.EnvVars, "system", null, name);
    public static SettingAddress Agent(string agentId, string key) => new(SettingStore.AgentConfigs, "agent", agentId, key);
    public static SettingAddress Configuration(string scope, string? scopeId, string key) => new(SettingStore.Configurations, scope, scopeId, key);

    /// <summary>The parameters every statement of the store takes.</summary>
    public object Parameters => new { scope = Scope, scopeId = ScopeId, key = Key };
}
