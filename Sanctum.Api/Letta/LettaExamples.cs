using Sanctum.Api.Infrastructure;

namespace Sanctum.Api.Letta;

/// <summary>The Letta link, import and memory block request bodies' examples in the OpenAPI document (<see cref="RequestExamples"/>).</summary>
internal static class LettaExamples
{
    public static readonly RequestExamples All = new()
    {
        [typeof(LettaLinkWrite)] = new LettaLinkWrite { LettaUid = "agent-6f1c2a9e-3b7d-4c1e-9a2f-0d8e5b4c3a21" },
        [typeof(LettaImport)] = new LettaImport { Id = "athena", Name = "Athena" },
        [typeof(LettaBlockWrite)] = new LettaBlockWrite { Value = "The user's name is Jane. She prefers short answers." },
    };
}
