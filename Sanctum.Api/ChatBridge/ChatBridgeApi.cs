using Microsoft.AspNetCore.Mvc;
using Sanctum.Api.OpenApi;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The web chat bridge at /api/v1 (protocol: chat-bridge.md). Every action answers in the bridge's envelope, both as
/// /api/v1/?action=NAME (what Broca and the chat page call) and as the direct route /api/v1/NAME.
/// </summary>
public static class ChatBridgeApi
{
    public const string BasePath = "/api/v1";

    public static bool Owns(PathString path) => path.StartsWithSegments(BasePath, StringComparison.OrdinalIgnoreCase);

    private static readonly string[] Get = [HttpMethods.Get];
    // The keys that open the relay's actions (an agent's own key counts as a relay key) and the admin actions.
    private static readonly string[] Relay = [SecuritySchemes.BridgeKey, SecuritySchemes.BridgeAdminKey];
    private static readonly string[] Admin = [SecuritySchemes.BridgeAdminKey];
    /// <summary>The web chat's callers: anyone (anonymous chat when allowed), recorded as the signed-in user when there is one.</summary>
    private static readonly string[] Visitor = SecuritySchemes.SessionOrAccessToken;
    private static readonly string[] Post = [HttpMethods.Post];

    private sealed record BridgeAction(string[] Methods, Func<HttpContext, Task<IResult>> Run);

    private static readonly Dictionary<string, BridgeAction> Actions = new(StringComparer.Ordinal)
    {
        ["messages"] = new(Post, http => Service<ChatMessages>(http).Messages(http)),
        ["inbox"] = new(Get, http => Service<BrocaRelay>(http).InboxAsync(http, Query(http, "limit"), Query(http, "offset"), Query(http, "since"))),
        ["outbox"] = new(Post, http => Service<BrocaRelay>(http).Outbox(http)),
        ["responses"] = new(Get, http => Task.FromResult(Service<ChatMessages>(http).Responses(http, Query(http, "session_id"), Query(http, "since"), Query(http, "after_id")))),
        ["sessions"] = new(Get, http => Task.FromResult(Service<BridgeAdmin>(http).Sessions(http, Query(http, "limit"), Query(http, "offset"), Query(http, "active")))),
        ["config"] = new([HttpMethods.Get, HttpMethods.Post], http => HttpMethods.IsGet(http.Request.Method)
            ? Task.FromResult(Service<BridgeAdmin>(http).GetConfig(http))
            : Service<BridgeAdmin>(http).PostConfig(http)),
        ["cleanup"] = new(Post, http => Task.FromResult(Service<BridgeAdmin>(http).Cleanup(http))),
        ["clear_data"] = new(Post, http => Task.FromResult(Service<BridgeAdmin>(http).ClearData(http))),
        ["cleanup_logs"] = new(Post, http => Task.FromResult(Service<BridgeAdmin>(http).CleanupLogs(http))),
    };

    /// <summary>The action names the query form takes.</summary>
    public static IEnumerable<string> ActionNames => Actions.Keys;

    public static RouteGroupBuilder MapChatBridge(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(BasePath).WithTags("ChatBridge");

        // The query form: /api/v1?action=... and /api/v1/?action=...
        group.MapGet("/", (HttpContext http, string? action) => Dispatch(http, action)).WithName("ChatBridgeGet")
            .WithSummary("Bridge action by query (inbox, responses, sessions, config): the same as GET /api/v1/{action}")
            .Produces(StatusCodes.Status200OK).Errors(400, 401, 403, 405, 429).AcceptKey([.. Relay, .. Visitor]);
        group.MapPost("/", (HttpContext http, string? action) => Dispatch(http, action)).WithName("ChatBridgePost")
            .WithSummary("Bridge action by query (messages, outbox, config, cleanup, clear_data, cleanup_logs): the same as POST /api/v1/{action}")
            .Produces(StatusCodes.Status200OK).Errors(400, 401, 403, 405, 408, 413, 429).AcceptKey([.. Relay, .. Visitor]);
        group.MapMethods("/", [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete, HttpMethods.Head, HttpMethods.Options],
            (HttpContext http, string? action) => Dispatch(http, action)).ExcludeFromDescription();

        // The direct routes.
        group.MapPost("/messages", (HttpContext http, ChatMessages chat) => chat.Messages(http)).WithName("PostChatMessage")
            .WithSummary("Post a web chat message (no key; a signed-in caller is recorded as the sender, and without one only when chat_allow_anonymous is true); creates the session when new")
            .Accepts<MessageRequest>("application/json").Answers<MessageReceipt>(400, 401, 403, 408, 413, 429).AllowAnonymous().AcceptKey(Visitor);
        group.MapGet("/inbox", (HttpContext http, BrocaRelay relay, string? limit, string? offset, string? since) => relay.InboxAsync(http, limit, offset, since))
            .WithName("GetChatInbox")
            .WithSummary("Unprocessed messages, oldest first, marked processed as they are returned (bridge API key, admin key, or an agent's key for its own sessions)")
            .Answers<InboxData>(400, 401, 429).RequireKey(Relay);
        group.MapPost("/outbox", (HttpContext http, BrocaRelay relay) => relay.Outbox(http)).WithName("PostChatResponse")
            .WithSummary("Post an agent's response to a session (bridge API key, admin key, or the session's agent's key)")
            .Accepts<OutboxRequest>("application/json").Answers<ResponseReceipt>(400, 401, 408, 413, 429).RequireKey(Relay);
        group.MapGet("/responses", (HttpContext http, ChatMessages chat, [FromQuery(Name = "session_id")] string? sessionId, string? since,
                [FromQuery(Name = "after_id")] string? afterId) => chat.Responses(http, sessionId, since, afterId))
            .WithName("GetChatResponses")
            .WithSummary("A session's responses, oldest first; since (at or after that time) and after_id narrow it; a session of a signed-in user is theirs alone")
            .Answers<ResponsesData>(400, 403, 429).AllowAnonymous().AcceptKey(Visitor);
        group.MapGet("/sessions", (HttpContext http, BridgeAdmin admin, string? limit, string? offset, string? active) => admin.Sessions(http, limit, offset, active))
            .WithName("ListChatSessions").WithSummary("Chat sessions, most recently active first; active=true keeps the last day's (admin key)")
            .Answers<SessionsData>(400, 401, 429).RequireKey(Admin);
        group.MapGet("/config", (HttpContext http, BridgeAdmin admin) => admin.GetConfig(http)).WithName("GetChatBridgeConfig")
            .WithSummary("The bridge's settings: max_message_length, session_timeout, rate limits per minute (admin key)")
            .Answers<BridgeConfig>(401, 429).RequireKey(Admin);
        group.MapPost("/config", (HttpContext http, BridgeAdmin admin) => admin.PostConfig(http)).WithName("SetChatBridgeConfig")
            .WithSummary("Change max_message_length and/or session_timeout (admin key)")
            .Accepts<BridgeConfigRequest>("application/json").Answers<BridgeConfig>(400, 401, 408, 413, 429).RequireKey(Admin);
        group.MapPost("/cleanup", (HttpContext http, BridgeAdmin admin) => admin.Cleanup(http)).WithName("CleanupChatSessions")
            .WithSummary("Delete sessions idle longer than session_timeout, with their messages and responses (admin key)")
            .Answers<CleanupResult>(401, 429).RequireKey(Admin);
        group.MapPost("/clear_data", (HttpContext http, BridgeAdmin admin) => admin.ClearData(http)).WithName("ClearChatData")
            .WithSummary("Delete every chat session, message and response; reports the counts deleted and remaining (admin key)")
            .Answers<ClearDataResult>(401, 429).RequireKey(Admin);
        group.MapPost("/cleanup_logs", (HttpContext http, BridgeAdmin admin) => admin.CleanupLogs(http)).WithName("CleanupChatLogs")
            .WithSummary("Report the log settings in force; the bridge keeps no log files to delete (admin key)")
            .Answers<LogCleanupResult>(401, 429).RequireKey(Admin);

        // Anything else one level down: a known action with the wrong method (405), an unknown action (400), OPTIONS.
        group.Map("/{action}", (HttpContext http, string action) => Dispatch(http, action)).ExcludeFromDescription();
        return group;
    }

    private static Task<IResult> Dispatch(HttpContext http, string? name)
    {
        if (HttpMethods.IsOptions(http.Request.Method))
            return Task.FromResult(BridgeResults.Options(http, [HttpMethods.Get, HttpMethods.Post, HttpMethods.Options]));
        if (string.IsNullOrEmpty(name)) return Task.FromResult(BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing action parameter"));
        if (!Actions.TryGetValue(name, out var action)) return Task.FromResult(BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid action"));
        if (!action.Methods.Contains(http.Request.Method, StringComparer.OrdinalIgnoreCase))
            return Task.FromResult(BridgeResults.MethodNotAllowed(http, action.Methods));
        return action.Run(http);
    }

    private static T Service<T>(HttpContext http) where T : notnull => http.RequestServices.GetRequiredService<T>();

    private static string? Query(HttpContext http, string name) => http.Request.Query[name];

    private static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder builder, params int[] errors) =>
        builder.Produces<BridgeSuccess<T>>(StatusCodes.Status200OK).Errors(errors);

    private static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.Produces<BridgeError>(status);
        return builder;
    }
}
