using System.Net.Http.Headers;
using System.Threading.Channels;

namespace Sanctum.Api.Tests.Events;

/// <summary>One event as a client of GET /api/events reads it.</summary>
public sealed record ReadEvent(string? Id, string Name, JsonElement Data);

/// <summary>
/// A client of GET /api/events: reads the text/event-stream in the background and hands out its events in order;
/// <see cref="Closed"/> completes when the server ends the stream.
/// </summary>
public sealed class EventStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<ReadEvent> _events = Channel.CreateUnbounded<ReadEvent>();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EventStream(HttpResponseMessage response)
    {
        _response = response;
        _ = Task.Run(ReadAsync);
    }

    public HttpResponseMessage Response => _response;

    public Task Closed => _closed.Task;

    public string? LastId { get; private set; }

    /// <summary>Opens a stream; the response is returned as it is when it is not 200 (refusals).</summary>
    public static async Task<(EventStream? Stream, HttpResponseMessage Response)> OpenAsync(HttpClient client, string topics, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/events?topics={Uri.EscapeDataString(topics)}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return response.StatusCode == HttpStatusCode.OK ? (new EventStream(response), response) : (null, response);
    }

    public static async Task<EventStream> OpenOkAsync(HttpClient client, string topics, string? lastEventId = null)
    {
        var (stream, response) = await OpenAsync(client, topics, lastEventId);
        // The body is read only for a refusal: an open stream's body belongs to its reader.
        if (stream is null) Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        return stream!;
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
            string? id = null, name = null;
            var data = new System.Text.StringBuilder();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (name is not null)
                    {
                        LastId = id ?? LastId;
                        _events.Writer.TryWrite(new ReadEvent(id, name, JsonDocument.Parse(data.Length == 0 ? "null" : data.ToString()).RootElement));
                    }
                    id = name = null;
                    data.Clear();
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException) { }
        finally
        {
            _events.Writer.TryComplete();
            _closed.TrySetResult();
        }
    }

    /// <summary>The next event matching <paramref name="match"/> (others are skipped), within <paramref name="seconds"/>.</summary>
    public async Task<ReadEvent> NextAsync(Func<ReadEvent, bool>? match = null, double seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(timeout.Token);
                if (match is null || match(e)) return e;
            }
        }
        catch (OperationCanceledException) { throw new TimeoutException($"No matching event within {seconds} s."); }
        catch (ChannelClosedException) { throw new InvalidOperationException("The stream ended before a matching event."); }
    }

    /// <summary>Every event read so far and not yet taken.</summary>
    public List<ReadEvent> Drain()
    {
        var list = new List<ReadEvent>();
        while (_events.Reader.TryRead(out var e)) list.Add(e);
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        await Closed.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
