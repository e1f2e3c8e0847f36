using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sanctum.Api.Audit;
using Sanctum.Api.Auth;
using Sanctum.Api.Settings;
using Sanctum.Api.Data;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Alerts;

/// <summary>Alerts (admin): channels (webhook, email), rules, the delivery history, and a test send.</summary>
public static class AlertsApi
{
    public const int DefaultLimit = 100, MaxLimit = 500;

    public static IServiceCollection AddAlerts(this IServiceCollection services)
    {
        services.AddHttpClient(AlertSender.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<AlertSender>();
        services.AddSingleton<AlertChannels>();
        services.AddSingleton<AlertEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertEngine>());
        return services;
    }

    public static RouteGroupBuilder MapAlerts(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/alerts").WithTags("Alerts").WithRequestExamples(AlertExamples.All).RequireAdmin();
        group.MapGet("/channels", ListChannels).WithName("ListAlertChannels").Paged(AlertNames.MaxListed).WithSummary("The alert channels by name; secrets show as ********");
        group.MapPost("/channels", CreateChannel).WithName("CreateAlertChannel")
            .WithSummary("Add a channel: webhook (url, secret: the HMAC key) or email (smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, from, to)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/channels/{id:long}", GetChannel).WithName("GetAlertChannel").WithSummary("One channel").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/channels/{id:long}", PatchChannel).WithName("UpdateAlertChannel")
            .WithSummary("Change the fields present; a secret of ******** or none keeps the stored one")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/channels/{id:long}", DeleteChannel).WithName("DeleteAlertChannel")
            .WithSummary("Delete a channel with its deliveries; rules keep their other channels").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/channels/{id:long}/test", TestChannel).WithName("TestAlertChannel")
            .WithSummary("Send a test alert through the channel now (bounded by Sanctum:Alerts:SendTimeout): ok, or the channel's error")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/rules", ListRules).WithName("ListAlertRules").Paged(AlertNames.MaxListed).WithSummary("The alert rules by name");
        group.MapPost("/rules", CreateRule).WithName("CreateAlertRule")
            .WithSummary("Add a rule: event status (kinds, statuses, grace_seconds), job.failed, backup.failed, audit.broken or disk.low, and its channel_ids")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/rules/{id:long}", GetRule).WithName("GetAlertRule").WithSummary("One rule").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/rules/{id:long}", PatchRule).WithName("UpdateAlertRule").WithSummary("Change the fields present")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/rules/{id:long}", DeleteRule).WithName("DeleteAlertRule").WithSummary("Delete a rule with its events and deliveries")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/deliveries", ListDeliveries).WithName("ListAlertDeliveries").Paged(MaxLimit)
            .WithSummary("Deliveries, newest first: status pending, sent or failed, attempts and the last error; page on with cursor = next_cursor");
        return group;
    }

    // Channels

    private static async Task<Ok<List<AlertChannel>>> ListChannels(DbConnection db) =>
        TypedResults.Ok((await db.QueryAsync<AlertChannels.Row>($"SELECT {AlertChannels.Columns} FROM alert_channels ORDER BY name LIMIT {AlertNames.MaxListed}")).Select(AlertChannels.Show).ToList());

    private static async Task<Results<Ok<AlertChannel>, ProblemHttpResult>> GetChannel(long id, DbConnection db, AlertChannels channels) =>
        await channels.FindAsync(db, id) is { } row ? TypedResults.Ok(AlertChannels.Show(row)) : NotFound($"Alert channel {id}");

    private static async Task<Results<Created<AlertChannel>, ValidationProblem, ProblemHttpResult>> CreateChannel(
        ChannelWrite body, DbConnection db, AlertChannels channels, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var errors = new Errors();
        var config = AlertChannels.Check(body, null, errors, out var type);
        if (config is null) return Problems.Invalid(errors);
        var now = Timestamp.Now(clock);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (await NameTakenAsync(db, tx, "alert_channels", body.Name!.Trim(), 0)) return Taken("channel", body.Name);
        var id = await db.ExecuteScalarAsync<long>("""
            INSERT INTO alert_channels (name, type, config, secret, enabled, created_at, updated_at)
            VALUES (@name, @type, @config, @secret, @enabled, @now, @now) RETURNING id
            """, new
            {
                name = body.Name.Trim(), type, config = JsonSerializer.Serialize(config, AlertSender.Json),
                secret = channels.Protect(type == "webhook" ? body.Secret : body.SmtpPassword), enabled = body.Enabled ?? true, now,
            }, tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("alert.channel.created", "alert_channel", Id(id), new { type, name = body.Name.Trim() }), http);
        return TypedResults.Created($"/api/alerts/channels/{id}", AlertChannels.Show((await channels.FindAsync(db, id))!));
    }

    private static async Task<Results<Ok<AlertChannel>, ValidationProblem, ProblemHttpResult>> PatchChannel(
        long id, ChannelWrite body, DbConnection db, AlertChannels channels, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        if (await channels.FindAsync(db, id) is not { } current) return NotFound($"Alert channel {id}");
        var errors = new Errors();
        var config = AlertChannels.Check(body, current, errors, out var type);
        if (config is null) return Problems.Invalid(errors);
        var newSecret = type == "webhook" ? body.Secret : body.SmtpPassword;
        var keep = newSecret is null || newSecret == Secrets.Mask;
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        if (body.Name is not null && await NameTakenAsync(db, tx, "alert_channels", body.Name.Trim(), id)) return Taken("channel", body.Name);
        await db.ExecuteAsync("""
            UPDATE alert_channels SET name = coalesce(@name, name), config = @config, secret = CASE WHEN @keep THEN secret ELSE @secret END,
                enabled = coalesce(@enabled, enabled), updated_at = @now WHERE id = @id
            """, new
            {
                id, name = body.Name?.Trim(), config = JsonSerializer.Serialize(config, AlertSender.Json), keep,
                secret = keep ? null : channels.Protect(newSecret == "" ? null : newSecret), enabled = body.Enabled, now = Timestamp.Now(clock),
            }, tx);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("alert.channel.updated", "alert_channel", Id(id), new { secret_changed = !keep }), http);
        return TypedResults.Ok(AlertChannels.Show((await channels.FindAsync(db, id))!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteChannel(long id, DbConnection db, AuditLog audit, HttpContext http)
    {
        if (await db.ExecuteAsync("DELETE FROM alert_channels WHERE id = @id", new { id }) == 0) return NotFound($"Alert channel {id}");
        audit.Record(new AuditEvent("alert.channel.deleted", "alert_channel", Id(id)), http);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ChannelTestResult>, ProblemHttpResult>> TestChannel(
        long id, DbConnection db, AlertChannels channels, AlertSender sender, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        if (await channels.FindAsync(db, id) is not { } row) return NotFound($"Alert channel {id}");
        await db.CloseAsync();
        var watch = Stopwatch.StartNew();
        var channel = channels.Resolve(row);
        var error = channel is null ? "The channel's secret cannot be read with this install's keys."
            : await sender.SendAsync(channel, new AlertPayload("test", $"Test alert from Sanctum ({row.Name})", Timestamp.Now(clock), null, null, null,
                "Sent by POST /api/alerts/channels/{id}/test."), http.RequestAborted);
        audit.Record(new AuditEvent("alert.channel.tested", "alert_channel", Id(id), new { ok = error is null }, error is null ? "ok" : "failed"), http);
        return TypedResults.Ok(new ChannelTestResult(error is null, error, watch.ElapsedMilliseconds));
    }

    // Rules

    private sealed record RuleRow
    {
        public long Id { get; init; }
        public string Name { get; init; } = "";
        public string Event { get; init; } = "";
        public string Kinds { get; init; } = "[]";
        public string Statuses { get; init; } = "[]";
        public long GraceSeconds { get; init; }
        public bool Enabled { get; init; }
        public string CreatedAt { get; init; } = "";
        public string UpdatedAt { get; init; } = "";
    }

    private const string RuleColumns = "id, name, event, kinds, statuses, grace_seconds, enabled, created_at, updated_at";

    private static async Task<List<AlertRule>> LoadRulesAsync(DbConnection db, long? id, DbTransaction? tx = null)
    {
        var rows = (await db.QueryAsync<RuleRow>($"SELECT {RuleColumns} FROM alert_rules {(id is null ? "" : "WHERE id = @id")} ORDER BY name LIMIT {AlertNames.MaxListed}", new { id }, tx)).AsList();
        var links = (await db.QueryAsync<(long RuleId, long ChannelId)>(
            $"SELECT rule_id, channel_id FROM alert_rule_channels {(id is null ? "" : "WHERE rule_id = @id")} ORDER BY channel_id", new { id }, tx)).ToLookup(l => l.RuleId, l => l.ChannelId);
        return rows.Select(r => new AlertRule
        {
            Id = r.Id, Name = r.Name, Event = r.Event, Kinds = JsonSerializer.Deserialize<List<string>>(r.Kinds) ?? [],
            Statuses = JsonSerializer.Deserialize<List<string>>(r.Statuses) ?? [], GraceSeconds = (int)r.GraceSeconds,
            ChannelIds = [.. links[r.Id]], Enabled = r.Enabled, CreatedAt = r.CreatedAt, UpdatedAt = r.UpdatedAt,
        }).ToList();
    }

    private static async Task<Ok<List<AlertRule>>> ListRules(DbConnection db) => TypedResults.Ok(await LoadRulesAsync(db, null));

    private static async Task<Results<Ok<AlertRule>, ProblemHttpResult>> GetRule(long id, DbConnection db) =>
        (await LoadRulesAsync(db, id)).SingleOrDefault() is { } rule ? TypedResults.Ok(rule) : NotFound($"Alert rule {id}");

    /// <summary>What the shape (RuleWrite's attributes) cannot say: what a create needs, and what goes with which event.</summary>
    private static Errors CheckRule(RuleWrite body, string? currentEvent)
    {
        var errors = new Errors();
        if (currentEvent is null)
            errors.Required("name", body.Name).Required("event", body.Event, string.Join(", ", AlertNames.Events))
                .Required("channel_ids", body.ChannelIds, "at least one channel");
        var @event = body.Event ?? currentEvent;
        if (@event != "status" && @event is not null && (body.Kinds is { Count: > 0 } || body.Statuses is { Count: > 0 }))
            errors.Add("event", "kinds and statuses are only for the status event.");
        return errors;
    }

    private static async Task<Errors> CheckChannelsAsync(DbConnection db, DbTransaction tx, IReadOnlyList<long>? ids)
    {
        var errors = new Errors();
        if (ids is null) return errors;
        var known = (await db.QueryAsync<long>($"SELECT id FROM alert_channels WHERE id {SqlDialect.Of(db).InList("@ids")}", new { ids = ids.Distinct().ToArray() }, tx)).ToHashSet();
        for (var i = 0; i < ids.Count; i++)
            if (!known.Contains(ids[i])) errors.Add($"channel_ids[{i}]", $"There is no alert channel {ids[i]}.");
        return errors;
    }

    private static async Task SetChannelsAsync(DbConnection db, DbTransaction tx, long id, IReadOnlyList<long>? ids)
    {
        if (ids is null) return;
        await db.ExecuteAsync("DELETE FROM alert_rule_channels WHERE rule_id = @id", new { id }, tx);
        foreach (var channel in ids.Distinct())
            await db.ExecuteAsync("INSERT INTO alert_rule_channels (rule_id, channel_id) VALUES (@id, @channel)", new { id, channel }, tx);
    }

    private static async Task<Results<Created<AlertRule>, ValidationProblem, ProblemHttpResult>> CreateRule(
        RuleWrite body, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var errors = CheckRule(body, null);
        if (errors.Any) return Problems.Invalid(errors);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var channelErrors = await CheckChannelsAsync(db, tx, body.ChannelIds);
        if (channelErrors.Any) return Problems.Invalid(channelErrors);
        if (await NameTakenAsync(db, tx, "alert_rules", body.Name!.Trim(), 0)) return Taken("rule", body.Name);
        var isStatus = body.Event == "status";
        var now = Timestamp.Now(clock);
        var id = await db.ExecuteScalarAsync<long>("""
            INSERT INTO alert_rules (name, event, kinds, statuses, grace_seconds, enabled, created_at, updated_at)
            VALUES (@name, @event, @kinds, @statuses, @grace, @enabled, @now, @now) RETURNING id
            """, new
            {
                name = body.Name.Trim(), @event = body.Event,
                kinds = JsonSerializer.Serialize(isStatus ? body.Kinds is { Count: > 0 } k ? k.Distinct() : AlertNames.Kinds : []),
                statuses = JsonSerializer.Serialize(isStatus ? body.Statuses is { Count: > 0 } s ? s.Distinct() : AlertNames.Statuses : []),
                grace = body.GraceSeconds ?? (isStatus ? 120 : 0), enabled = body.Enabled ?? true, now,
            }, tx);
        await SetChannelsAsync(db, tx, id, body.ChannelIds);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("alert.rule.created", "alert_rule", Id(id), new { @event = body.Event, channels = body.ChannelIds }), http);
        return TypedResults.Created($"/api/alerts/rules/{id}", (await LoadRulesAsync(db, id)).Single());
    }

    private static async Task<Results<Ok<AlertRule>, ValidationProblem, ProblemHttpResult>> PatchRule(
        long id, RuleWrite body, DbConnection db, TimeProvider clock, AuditLog audit, HttpContext http)
    {
        var currentEvent = await db.QuerySingleOrDefaultAsync<string>("SELECT event FROM alert_rules WHERE id = @id", new { id });
        if (currentEvent is null) return NotFound($"Alert rule {id}");
        var errors = CheckRule(body, currentEvent);
        if (errors.Any) return Problems.Invalid(errors);
        await db.OpenAsync();
        await using var tx = await db.BeginTransactionAsync();
        var channelErrors = await CheckChannelsAsync(db, tx, body.ChannelIds);
        if (channelErrors.Any) return Problems.Invalid(channelErrors);
        if (body.Name is not null && await NameTakenAsync(db, tx, "alert_rules", body.Name.Trim(), id)) return Taken("rule", body.Name);
        var @event = body.Event ?? currentEvent;
        var isStatus = @event == "status";
        await db.ExecuteAsync("""
            UPDATE alert_rules SET name = coalesce(@name, name), event = @event,
                kinds = CASE WHEN @isStatus THEN coalesce(@kinds, CASE WHEN kinds = '[]' THEN @allKinds ELSE kinds END) ELSE '[]' END,
                statuses = CASE WHEN @isStatus THEN coalesce(@statuses, CASE WHEN statuses = '[]' THEN @allStatuses ELSE statuses END) ELSE '[]' END,
                grace_seconds = coalesce(@grace, grace_seconds), enabled = coalesce(@enabled, enabled), updated_at = @now
            WHERE id = @id
            """, new
            {
                id, name = body.Name?.Trim(), @event, isStatus,
                kinds = body.Kinds is { Count: > 0 } k ? JsonSerializer.Serialize(k.Distinct()) : null, allKinds = JsonSerializer.Serialize(AlertNames.Kinds),
                statuses = body.Statuses is { Count: > 0 } s ? JsonSerializer.Serialize(s.Distinct()) : null, allStatuses = JsonSerializer.Serialize(AlertNames.Statuses),
                grace = body.GraceSeconds, enabled = body.Enabled, now = Timestamp.Now(clock),
            }, tx);
        await SetChannelsAsync(db, tx, id, body.ChannelIds);
        await tx.CommitAsync();
        audit.Record(new AuditEvent("alert.rule.updated", "alert_rule", Id(id), new { @event }), http);
        return TypedResults.Ok((await LoadRulesAsync(db, id)).Single());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteRule(long id, DbConnection db, AuditLog audit, HttpContext http)
    {
        if (await db.ExecuteAsync("DELETE FROM alert_rules WHERE id = @id", new { id }) == 0) return NotFound($"Alert rule {id}");
        audit.Record(new AuditEvent("alert.rule.deleted", "alert_rule", Id(id)), http);
        return TypedResults.NoContent();
    }

    // Deliveries

    private static async Task<Results<Ok<DeliveryPage>, ValidationProblem>> ListDeliveries(
        DbConnection db, [FromQuery(Name = "channel_id")] long? channelId = null, [FromQuery(Name = "rule_id")] long? ruleId = null,
        [OneOf(typeof(AlertNames), nameof(AlertNames.DeliveryStatuses))] string? status = null, int? limit = null, long? cursor = null)
    {
        var errors = new Errors();
        if (limit is < 1 or > MaxLimit) errors.Add("limit", $"Must be 1 to {MaxLimit}.");
        if (cursor is < 1) errors.Add("cursor", "Must be a next_cursor from an earlier page.");
        if (errors.Any) return Problems.Invalid(errors);
        var filters = new[]
        {
            channelId is null ? null : "d.channel_id = @channelId",
            ruleId is null ? null : "e.rule_id = @ruleId",
            status is null ? null : "d.status = @status",
            cursor is null ? null : "d.id < @cursor",
        }.OfType<string>().ToList();
        var take = (limit ?? DefaultLimit) + 1;
        var rows = (await db.QueryAsync<(long Id, long RuleId, long ChannelId, string Event, string Payload, string Status, long Attempts, string? LastError, string CreatedAt, string? SentAt)>($"""
            SELECT d.id, e.rule_id, d.channel_id, e.event, e.payload, d.status, d.attempts, d.last_error, d.created_at, d.sent_at
            FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))} ORDER BY d.id DESC LIMIT @take
            """, new { channelId, ruleId, status, cursor, take })).ToList();
        var more = rows.Count == take;
        if (more) rows.RemoveAt(rows.Count - 1);
        var items = rows.Select(r => new AlertDelivery
        {
            Id = r.Id, RuleId = r.RuleId, ChannelId = r.ChannelId, Event = r.Event,
            Summary = JsonSerializer.Deserialize<AlertPayload>(r.Payload, AlertSender.Json)?.Summary, Status = r.Status,
            Attempts = r.Attempts, LastError = r.LastError, CreatedAt = r.CreatedAt, SentAt = r.SentAt,
        }).ToList();
        return TypedResults.Ok(new DeliveryPage(items, more ? items[^1].Id : null));
    }

    private static async Task<bool> NameTakenAsync(DbConnection db, DbTransaction tx, string table, string name, long id) =>
        await db.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE lower(name) = lower(@name) AND id <> @id", new { name, id }, tx) > 0;

    private static ProblemHttpResult Taken(string what, string name) => Problems.Conflict($"An alert {what} named '{name.Trim()}' exists already.");

    private static ProblemHttpResult NotFound(string what) => Problems.NotFound(what);

    private static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
