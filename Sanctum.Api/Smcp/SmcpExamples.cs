using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Smcp;

/// <summary>The SMCP tool call request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class SmcpExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(ToolCallRequest)] = new ToolCallRequest { Arguments = RequestExamples.Json(new { message = "hello" }), InstanceId = 1 },
    };
}
