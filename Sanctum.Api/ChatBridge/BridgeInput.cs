using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Sanctum.Api.Data;

namespace Sanctum.Api.ChatBridge;

/// <summary>A request body read by the bridge itself, so that every failure is answered in the envelope.</summary>
public sealed record BridgeBody(JsonElement? Root, bool TooLarge, bool TimedOut = false)
{
    public bool Malformed => Root is null && !TooLarge && !TimedOut;

    /// <summary>413 for a body over the limit, 408 for one not sent within the read deadline; null when it was read.</summary>
    public IResult? Unread(HttpContext http)
    {
        if (TooLarge) return BridgeResults.Error(StatusCodes.Status413PayloadTooLarge, "Request too large");
        if (!TimedOut) return null;
        // The rest of a trickled body is not waited for: the connection ends with the answer.
        http.Response.Headers.Connection = "close";
        return BridgeResults.Error(StatusCodes.Status408RequestTimeout, "Request timeout");
    }

    /// <summary>The named property when the body is an object that has it.</summary>
    public bool TryGet(string name, out JsonElement value)
    {
        value = default;
        return Root is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty(name, out value);
    }

    public bool IsObject => Root is { ValueKind: JsonValueKind.Object };

    /// <summary>
    /// An action's body parameter: read once, up to the global size limit and within the bridge's read deadline,
    /// whatever it holds, so the action answers every failure itself.
    /// </summary>
    public static async ValueTask<BridgeBody?> BindAsync(HttpContext http)
    {
        var services = http.RequestServices;
        return await BridgeInput.ReadBodyAsync(http.Request, services.GetRequiredService<IOptions<SanctumOptions>>().Value.MaxRequestBodyBytes,
            TimeSpan.FromSeconds(services.GetRequiredService<IOptions<ChatBridgeOptions>>().Value.BodyReadSeconds),
            services.GetRequiredService<TimeProvider>());
    }
}

/// <summary>Reading and checking what clients send: bodies, session ids, messages, paging, times.</summary>
public static partial class BridgeInput
{
    public const int MaxSessionIdLength = 64;
    /// <summary>A session id as the schemas state it (<see cref="SessionIdRegex"/> is what the bridge checks).</summary>
    public const string SessionIdPattern = "^session_[A-Za-z0-9_]+$";
    public const int MaxMessageLength = 10_000;
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    /// <summary>`\z`, not `$`: `$` also matches before a trailing newline.</summary>
    [GeneratedRegex(@"^session_[A-Za-z0-9_]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex SessionIdRegex();

    /// <summary>
    /// Reads the whole body, within <paramref name="deadline"/> on <paramref name="clock"/>: a body trickled in slowly
    /// must not hold the request (and with it the maintenance gate a restore waits on) for longer.
    /// </summary>
    public static async Task<BridgeBody> ReadBodyAsync(HttpRequest request, long maxBytes, TimeSpan deadline, TimeProvider clock)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(deadline, clock);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, request.HttpContext.RequestAborted);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, reading.Token)) > 0)
            {
                if (buffer.Length + read > maxBytes) return new BridgeBody(null, TooLarge: true);
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new BridgeBody(null, TooLarge: true);
        }
        catch (Exception e) when (timeout.IsCancellationRequested && e is OperationCanceledException or BadHttpRequestException or IOException)
        {
            return new BridgeBody(null, TooLarge: false, TimedOut: true);
        }
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        // JsonDocument checks strings only when they are read (GetString, property names), which would throw in the
        // middle of an action: a body that is not UTF-8 or escapes a lone surrogate is malformed JSON, refused here.
        if (!Infrastructure.JsonTextCheck.IsReadable(bytes.Span)) return new BridgeBody(null, TooLarge: false);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return new BridgeBody(document.RootElement.Clone(), TooLarge: false);
        }
        catch (JsonException)
        {
            return new BridgeBody(null, TooLarge: false);
        }
    }

    /// <summary>The trimmed session id, or null when it is not a string of the form session_[A-Za-z0-9_]+ up to 64 characters.</summary>
    public static string? SessionId(JsonElement value) => value.ValueKind == JsonValueKind.String ? SessionId(value.GetString()) : null;

    public static string? SessionId(string? text)
    {
        var trimmed = text?.Trim();
        return trimmed is { Length: > 0 and <= MaxSessionIdLength } && SessionIdRegex().IsMatch(trimmed) ? trimmed : null;
    }

    /// <summary>The trimmed message, or null when it is not a string of 1 to <paramref name="max"/> characters that is not blank.</summary>
    public static string? Message(JsonElement value, int max)
    {
        if (value.ValueKind != JsonValueKind.String) return null;
        var trimmed = value.GetString()!.Trim();
        if (trimmed.Length == 0) return null;
        // Characters as people count them (code points), so an emoji is one, not two UTF-16 units.
        var count = 0;
        foreach (var _ in trimmed.EnumerateRunes())
            if (++count > max) return null;
        return trimmed;
    }

    /// <summary>limit (default 50, clamped to 1..100) and offset (≥ 0); null with the error text when either is not an integer.</summary>
    public static (int Limit, int Offset)? Paging(string? limitText, string? offsetText, out string? error)
    {
        error = null;
        var limit = DefaultLimit;
        var offset = 0;
        if (!string.IsNullOrEmpty(limitText))
        {
            if (!int.TryParse(limitText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit))
            {
                error = "Invalid limit parameter";
                return null;
            }
            limit = Math.Clamp(limit, 1, MaxLimit);
        }
        if (!string.IsNullOrEmpty(offsetText)
            && (!int.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            error = "Invalid offset parameter";
            return null;
        }
        return (limit, offset);
    }

    /// <summary>
    /// An ISO-8601 time (Z, an offset, or none meaning UTC; fractions allowed) in the stored form, so that text
    /// comparison in SQL compares times. Null input gives true with a null result; a bad one gives false.
    /// </summary>
    public static bool TrySince(string? text, out string? since)
    {
        since = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (!Timestamp.TryNormalize(text, out var normalized)) return false;
        since = normalized;
        return true;
    }
}
