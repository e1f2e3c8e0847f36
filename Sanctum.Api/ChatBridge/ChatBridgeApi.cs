using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Rewrite;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.ChatBridge;

/// <summary>
/// The web chat bridge at /api/v1 (protocol: chat-bridge.md). Every action answers in the bridge's envelope, both as
/// /api/v1/?action=NAME (what Broca and the chat page call; rewritten to the direct route before routing) and as the
/// direct route /api/v1/NAME. The relay's and the admin's actions are mapped in groups that require their key.
/// </summary>
public static partial class ChatBridgeApi
{
    public const string BasePath = "/api/v1";

    public static bool Owns(PathString path) => path.StartsWithSegments(BasePath, StringComparison.OrdinalIgnoreCase);

    /// <summary>The action names the query form takes (the documented values of its action parameter).</summary>
    public static readonly string[] ActionNames = ["messages", "inbox", "outbox", "responses", "sessions", "config", "cleanup", "clear_data", "cleanup_logs"];

    /// <summary>The web chat's callers: anyone (anonymous chat when allowed), recorded as the signed-in user when there is one.</summary>
    private static readonly string[] Visitor = Credentials.SessionOrAccessToken;
    private static readonly string[] QueryKeys = [Credentials.BridgeKey, Credentials.BridgeAdminKey, .. Visitor];

    public static RouteGroupBuilder MapChatBridge(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(BasePath).WithTags("ChatBridge").WithRequestExamples(BridgeExamples.All);

        // What the query form leaves here has no action, or one that is not an action's name (see UseBridgeActionQuery).
        group.MapGet("/", (HttpContext http, string? action) => Unmatched(http, action)).WithName("ChatBridgeGet")
            .WithSummary("Bridge action by query (inbox, responses, sessions, config): the same as GET /api/v1/{action}")
            .Produces(StatusCodes.Status200OK).Errors(400, 401, 403, 405, 429).AcceptKey(QueryKeys);
        group.MapPost("/", (HttpContext http, string? action) => Unmatched(http, action)).WithName("ChatBridgePost")
            .WithSummary("Bridge action by query (messages, outbox, config, cleanup, clear_data, cleanup_logs): the same as POST /api/v1/{action}")
            .Produces(StatusCodes.Status200OK).Errors(400, 401, 403, 405, 408, 413, 429).AcceptKey(QueryKeys);
        group.MapMethods("/", [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete, HttpMethods.Head, HttpMethods.Options],
            (HttpContext http, string? action) => Unmatched(http, action)).ExcludeFromDescription();

        // The web chat's message: no key.
        group.MapPost("/messages", (HttpContext http, ChatMessages chat) => chat.Messages(http)).WithName("PostChatMessage")
            .WithSummary("Post a web chat message (no key; a signed-in caller is recorded as the sender, and without one only when chat_allow_anonymous is true); creates the session when new")
            .Takes<MessageRequest>().Answers<MessageReceipt>(400, 401, 403, 408, 413, 429).AllowAnonymous().AcceptKey(Visitor);

        // The relay's actions: the bridge API key, the admin key, or an agent's own key.
        var relay = group.MapGroup("").RequireAuthorization(BridgeKeyHandler.RelayPolicy);
        relay.MapGet("/inbox", (HttpContext http, BrocaRelay broca, string? limit, string? offset, string? since) => broca.Inbox(http, limit, offset, since))
            .WithName("GetChatInbox")
            .WithSummary("Unprocessed messages, oldest first, marked processed as they are returned (bridge API key, admin key, or an agent's key for its own sessions)")
            .Answers<InboxData>(400, 401, 429).RequireRateLimiting(BridgeRateLimits.Inbox);
        relay.MapPost("/outbox", (HttpContext http, BrocaRelay broca, BridgeBody body) => broca.Outbox(http, body)).WithName("PostChatResponse")
            .WithSummary("Post an agent's response to a session (bridge API key, admin key, or the session's agent's key)")
            .Takes<OutboxRequest>().Answers<ResponseReceipt>(400, 401, 408, 413, 429).RequireRateLimiting(BridgeRateLimits.Outbox);

        // The web chat's polling for replies: no key, limited per client address.
        group.MapGet("/responses", (HttpContext http, ChatMessages chat, [FromQuery(Name = "session_id")] string? sessionId, string? since,
                [FromQuery(Name = "after_id")] string? afterId) => chat.Responses(http, sessionId, since, afterId))
            .WithName("GetChatResponses")
            .WithSummary("A session's responses, oldest first; since (at or after that time) and after_id narrow it; a session of a signed-in user is theirs alone")
            .Answers<ResponsesData>(400, 403, 429).AllowAnonymous().AcceptKey(Visitor).RequireRateLimiting(BridgeRateLimits.Responses);

        // The admin actions: the admin key alone.
        var admin = group.MapGroup("").RequireAuthorization(BridgeKeyHandler.AdminPolicy);
        admin.MapGet("/sessions", (BridgeAdmin bridge, string? limit, string? offset, string? active) => bridge.Sessions(limit, offset, active))
            .WithName("ListChatSessions").WithSummary("Chat sessions, most recently active first; active=true keeps the last day's (admin key)")
            .Answers<SessionsData>(400, 401, 429).RequireRateLimiting(BridgeRateLimits.Sessions);
        admin.MapGet("/config", (BridgeAdmin bridge) => bridge.GetConfig()).WithName("GetChatBridgeConfig")
            .WithSummary("The bridge's settings: max_message_length, session_timeout, rate limits per minute (admin key)")
            .Answers<BridgeConfig>(401, 429);
        admin.MapPost("/config", (HttpContext http, BridgeAdmin bridge, BridgeBody body) => bridge.PostConfig(http, body)).WithName("SetChatBridgeConfig")
            .WithSummary("Change max_message_length and/or session_timeout (admin key)")
            .Takes<BridgeConfigRequest>().Answers<BridgeConfig>(400, 401, 408, 413, 429);
        admin.MapPost("/cleanup", (BridgeAdmin bridge) => bridge.Cleanup()).WithName("CleanupChatSessions")
            .WithSummary("Delete sessions idle longer than session_timeout, with their messages and responses (admin key)")
            .Answers<CleanupResult>(401, 429);
        admin.MapPost("/clear_data", (BridgeAdmin bridge) => bridge.ClearData()).WithName("ClearChatData")
            .WithSummary("Delete every chat session, message and response; reports the counts deleted and remaining (admin key)")
            .Answers<ClearDataResult>(401, 429);
        admin.MapPost("/cleanup_logs", (BridgeAdmin bridge) => bridge.CleanupLogs()).WithName("CleanupChatLogs")
            .WithSummary("Report the log settings in force; the bridge keeps no log files to delete (admin key)")
            .Answers<LogCleanupResult>(401, 429);

        // Anything else one level down: an action with the wrong method (405), an unknown action (400), OPTIONS.
        group.Map("/{action}", (HttpContext http, string action, EndpointDataSource endpoints) => Unmatched(http, action, endpoints))
            .ExcludeFromDescription();
        return group;
    }

    /// <summary>/api/v1/?action=NAME (and /api/v1?action=NAME) becomes /api/v1/NAME before routing, the query kept.</summary>
    public static IApplicationBuilder UseBridgeActionQuery(this IApplicationBuilder app) =>
        app.UseRewriter(new RewriteOptions().Add(context =>
        {
            var request = context.HttpContext.Request;
            if ((request.Path == BasePath || request.Path == BasePath + "/")
                && request.Query["action"].ToString() is var action && ActionName().IsMatch(action))
                request.Path = $"{BasePath}/{action}";
        }));

    // Action names are lowercase and case-sensitive: anything else stays on "/" and is an invalid action.
    [GeneratedRegex(@"^[a-z_]{1,32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActionName();

    private static IResult Unmatched(HttpContext http, string? action, EndpointDataSource? endpoints = null)
    {
        if (HttpMethods.IsOptions(http.Request.Method))
            return BridgeResults.Options(http, [HttpMethods.Get, HttpMethods.Post, HttpMethods.Options]);
        if (string.IsNullOrEmpty(action)) return BridgeResults.Error(StatusCodes.Status400BadRequest, "Missing action parameter");
        // The methods the action's own routes take, when it is one.
        var methods = (endpoints?.Endpoints ?? []).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText == $"{BasePath}/{action}")
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).ToList();
        return methods.Count == 0
            ? BridgeResults.Error(StatusCodes.Status400BadRequest, "Invalid action")
            : BridgeResults.MethodNotAllowed(http, methods);
    }

    // The bridge reads a body whatever its Content-Type (the protocol never asked for one): */* keeps routing from
    // turning another type away; the document names JSON alone (OpenApi/OperationConventions.cs).
    private static RouteHandlerBuilder Takes<T>(this RouteHandlerBuilder builder) where T : notnull => builder.Accepts<T>("application/json", "*/*");

    private static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder builder, params int[] errors) =>
        builder.Produces<BridgeSuccess<T>>(StatusCodes.Status200OK).Errors(errors);

    private static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.Produces<BridgeError>(status);
        return builder;
    }
}
