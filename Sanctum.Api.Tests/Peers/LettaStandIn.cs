using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sanctum.Api.Tests.Peers;

/// <summary>
/// A small stateful Letta for the flows Prism cannot hold (state between calls): a Kestrel server on a free loopback
/// port answering the few calls Sanctum makes, in the shapes of Letta's OpenAPI document (letta-openapi.json):
/// <c>GET /v1/health/</c> (Health), <c>GET /v1/agents/</c> (limit, after; a list of AgentState),
/// <c>GET /v1/agents/{agent_id}</c> (AgentState), <c>GET</c> and <c>PATCH /v1/agents/{agent_id}/core-memory/blocks/{block_label}</c>
/// (BlockResponse; PATCH takes BlockUpdate). It checks <c>Authorization: Bearer</c>, records every request, and can be
/// told to fail or hang the next calls.
/// </summary>
public sealed class LettaStandIn : IAsyncDisposable
{
    public const string Password = "stand-in-password";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonObject> _agents = new();
    private readonly ConcurrentQueue<(string Method, int Status)> _failures = new();
    private readonly Lock _gate = new();

    public string BaseUrl { get; }
    /// <summary>Every request as "METHOD path?query", in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();
    /// <summary>When set, GETs wait for the caller to go away (a peer that never answers).</summary>
    public volatile bool Hang;

    private LettaStandIn(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<LettaStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        LettaStandIn? letta = null;
        app.Run(http => letta!.HandleAsync(http));
        await app.StartAsync();
        letta = new LettaStandIn(app, app.Urls.First());
        return letta;
    }

    /// <summary>Adds an agent with one tool and two blocks (human, persona); its id, agent- and a UUID v4 as Letta's are.</summary>
    public string AddAgent(string name = "Athena", string human = "The user is Jane.", long limit = 5000)
    {
        var id = "agent-" + Guid.NewGuid().ToString("D");
        var blocks = new JsonArray(Block("human", human, limit), Block("persona", "I am a careful research assistant.", limit));
        _agents[id] = new JsonObject
        {
            ["id"] = id, ["name"] = name, ["description"] = "Research agent on Letta", ["system"] = "You are Athena. Answer briefly.",
            ["agent_type"] = "memgpt_agent",
            ["llm_config"] = new JsonObject { ["model"] = "gpt-4o-mini", ["model_endpoint_type"] = "openai", ["context_window"] = 128000 },
            ["memory"] = new JsonObject { ["blocks"] = blocks.DeepClone() },
            ["blocks"] = blocks,
            ["tools"] = new JsonArray(new JsonObject
            {
                ["id"] = "tool-" + Guid.NewGuid().ToString("D"), ["name"] = "web_search", ["description"] = "Search the web", ["tool_type"] = "custom",
            }),
            ["sources"] = new JsonArray(), ["tags"] = new JsonArray(),
        };
        return id;
    }

    private static JsonObject Block(string label, string value, long limit) => new()
    {
        ["id"] = "block-" + Guid.NewGuid().ToString("D"), ["label"] = label, ["value"] = value, ["limit"] = limit, ["description"] = null,
    };

    /// <summary>A block's value as Letta holds it now.</summary>
    public string? BlockValue(string agent, string label)
    {
        lock (_gate) return FindBlock(agent, label)?["value"]?.GetValue<string>();
    }

    /// <summary>Changes a block as Letta itself would (another client, or the agent), behind Sanctum's back.</summary>
    public void SetBlockValue(string agent, string label, string value)
    {
        lock (_gate) SetValue(agent, label, value);
    }

    /// <summary>The next <paramref name="times"/> requests with <paramref name="method"/> answer <paramref name="status"/>.</summary>
    public void Fail(string method, int status, int times = 1)
    {
        for (var i = 0; i < times; i++) _failures.Enqueue((method, status));
    }

    public int Count(string method, string pathStart) => Requests.Count(r => r.StartsWith($"{method} {pathStart}", StringComparison.Ordinal));

    private JsonObject? FindBlock(string agent, string label) =>
        _agents.TryGetValue(agent, out var a) ? a["blocks"]!.AsArray().OfType<JsonObject>().FirstOrDefault(b => (string?)b["label"] == label) : null;

    private void SetValue(string agent, string label, string value)
    {
        foreach (var list in new[] { _agents[agent]["blocks"]!.AsArray(), _agents[agent]["memory"]!["blocks"]!.AsArray() })
            foreach (var block in list.OfType<JsonObject>().Where(b => (string?)b["label"] == label)) block["value"] = value;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var method = http.Request.Method;
        Requests.Enqueue($"{method} {http.Request.Path}{http.Request.QueryString}");
        if (http.Request.Headers.Authorization != "Bearer " + Password)
        {
            await Answer(http, 401, new JsonObject { ["detail"] = "Unauthorized" });
            return;
        }
        if (_failures.TryPeek(out var failure) && failure.Method == method && _failures.TryDequeue(out failure))
        {
            await Answer(http, failure.Status, new JsonObject { ["detail"] = "failing on purpose" });
            return;
        }
        if (Hang && method == "GET")
        {
            try { await Task.Delay(Timeout.Infinite, http.RequestAborted); } catch (OperationCanceledException) { }
            return;
        }
        var path = http.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (method, path)
        {
            case ("GET", ["v1", "health"]):
                await Answer(http, 200, new JsonObject { ["version"] = "0.16.0-stand-in", ["status"] = "ok" });
                return;
            case ("GET", ["v1", "agents"]):
                var limit = int.TryParse(http.Request.Query["limit"], out var l) ? l : 50;
                var after = http.Request.Query["after"].ToString();
                JsonArray page;
                lock (_gate)
                    page = new JsonArray(_agents.Values.OrderBy(a => (string)a["id"]!, StringComparer.Ordinal)
                        .Where(a => after.Length == 0 || string.CompareOrdinal((string)a["id"]!, after) > 0)
                        .Take(limit).Select(a => a.DeepClone()).ToArray());
                await Answer(http, 200, page);
                return;
            case ("GET", ["v1", "agents", var id]):
                JsonNode? agent;
                lock (_gate) agent = _agents.TryGetValue(id, out var a) ? a.DeepClone() : null;
                await Answer(http, agent is null ? 404 : 200, agent ?? new JsonObject { ["detail"] = $"Agent {id} not found" });
                return;
            case ("GET", ["v1", "agents", var id, "core-memory", "blocks", var label]):
                JsonNode? block;
                lock (_gate) block = FindBlock(id, label)?.DeepClone();
                await Answer(http, block is null ? 404 : 200, block ?? new JsonObject { ["detail"] = $"Block {label} not found" });
                return;
            case ("PATCH", ["v1", "agents", var id, "core-memory", "blocks", var label]):
                var update = await JsonNode.ParseAsync(http.Request.Body);
                if (update?["value"] is not JsonValue v || !v.TryGetValue<string>(out var value))
                {
                    await Answer(http, 422, new JsonObject { ["detail"] = "value must be a string" });
                    return;
                }
                JsonNode? written;
                lock (_gate)
                {
                    if (FindBlock(id, label) is null) written = null;
                    else
                    {
                        SetValue(id, label, value);
                        written = FindBlock(id, label)!.DeepClone();
                    }
                }
                await Answer(http, written is null ? 404 : 200, written ?? new JsonObject { ["detail"] = $"Block {label} not found" });
                return;
            default:
                await Answer(http, 404, new JsonObject { ["detail"] = "Not Found" });
                return;
        }
    }

    private static async Task Answer(HttpContext http, int status, JsonNode body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
