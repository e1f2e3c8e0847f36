// The folders holding the run's longest fixtures start first (NUnit orders a folder's fixtures by [Order], then by
// name, and the folders themselves by the [Order] of their SetUpFixture): started late, one of them would run alone
// at the end while the other workers idle.
namespace Sanctum.Api.Tests.Operations
{
    /// <summary>Puts Operations (the container build, the admin commands) first.</summary>
    [SetUpFixture, Order(1)]
    public sealed class OperationsFirst;
}

namespace Sanctum.Api.Tests.Evidence
{
    /// <summary>Puts Evidence (the bad-input sweep) second.</summary>
    [SetUpFixture, Order(2)]
    public sealed class EvidenceSecond;
}

namespace Sanctum.Api.Tests.Security
{
    /// <summary>Puts Security (the start-up tests' child processes) third.</summary>
    [SetUpFixture, Order(3)]
    public sealed class SecurityThird;
}
