using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sanctum.Api.Agents;
using Sanctum.Api.Auth;
using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Events;

/// <summary>GET /api/events: the live event stream (text/event-stream) the pages subscribe to instead of polling.</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEvents(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/events").WithTags("Events").RequireReader();
        group.MapGet("/", Stream).WithName("StreamEvents")
            .WithSummary("Live events (text/event-stream) of the topics named in topics= (a comma list; default: every topic the caller may read "
                + "but chat:<session_id>). Each event has an id, an event name and JSON data; reconnect with Last-Event-ID to receive what was missed "
                + "(kept 10 minutes or 10,000 events, else one reset event: reload). Comment lines are heartbeats. 503 with Retry-After when "
                + "too many streams are open.")
            .WithDescription(EventCatalogue.Markdown)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            // A stream stays open for hours: it must not hold back a restore, which waits for the requests in flight.
            .WithMetadata(new Data.MaintenanceGate.Bypass());
        return group;
    }

    private static readonly byte[] Opening = "retry: 3000\n\n"u8.ToArray();

    private static async Task<Results<EmptyHttpResult, ValidationProblem, ProblemHttpResult>> Stream(
        HttpContext http, EventHub hub, EventAuthorizer authorizer, IEnumerable<EventTopic> known, IOptions<EventsOptions> options,
        string? topics = null)
    {
        var user = http.User;
        var registered = known.ToArray();
        var asked = topics is null
            ? registered.Where(t => !t.IsFamily && t.Allows(user)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal)
            : topics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (asked.Count is 0 or > 64) return Problems.Invalid("topics", "Name 1 to 64 topics, comma separated.");
        foreach (var name in asked)
        {
            if (name.Length > 200 || registered.FirstOrDefault(t => t.Matches(name)) is not { } topic)
                return Problems.Invalid("topics", $"Unknown topic '{(name.Length > 50 ? name[..50] + "..." : name)}'. Known: {string.Join(", ", registered.Select(t => t.IsFamily ? t.Name + "<id>" : t.Name))}.");
            if (!topic.Allows(user))
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: $"Topic '{name}' is for admins.");
        }

        var token = SessionTokens.Read(http.Request)!;
        var subscriber = new EventSubscriber(asked, user.UserId(), AgentVisibility.ViewerOf(user),
            new StreamCredential(AccessTokens.IsAccessToken(token), SessionTokens.Hash(token)), options.Value.BufferSize);
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 and <= 100 } header ? header : null;
        var attached = hub.Subscribe(subscriber, lastEventId);
        if (attached.Refused)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: "Too many event streams are open; try again shortly.");
        }
        try
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var body = http.Response.BodyWriter;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, subscriber.Ended);
            try
            {
                body.Write(Opening);
                if (attached.Reset) body.Write(LiveEvent.ResetFrame(attached.NewestId));
                foreach (var e in attached.Missed)
                    if (authorizer.Allows(subscriber, e)) body.Write(e.Frame.Span);
                await body.FlushAsync(stop.Token);
                var reader = subscriber.Reader;
                while (await reader.WaitToReadAsync(stop.Token))
                {
                    while (reader.TryRead(out var e))
                    {
                        if (ReferenceEquals(e, LiveEvent.Heartbeat)) body.Write(LiveEvent.HeartbeatFrame.Span);
                        else if (authorizer.Allows(subscriber, e)) body.Write(e.Frame.Span);
                    }
                    await body.FlushAsync(stop.Token);
                }
            }
            catch (OperationCanceledException) { }
            // A reader too slow to empty its buffer is cut off at once rather than waited for; it reconnects and resumes.
            if (subscriber.EndReason is "dropped") http.Abort();
        }
        finally
        {
            hub.Unsubscribe(subscriber);
            subscriber.End("closed");
        }
        return TypedResults.Empty;
    }
}
