// The folder holding the run's longest fixture (the container build's restore and Release publish) starts first:
// started at its place in the alphabet, it ran alone at the end while the other workers idled. NUnit orders the
// folders by the [Order] of their SetUpFixture, and a folder's fixtures by [Order], then by name.
// Measured: a SetUpFixture without [Parallelizable] runs its folder's fixtures apart from the other folders (three
// at a time among themselves) before them; with Parallelizable(Self | Fixtures) it no longer starts first (the
// container build then began 17 minutes into the run). The first is the shorter run.
namespace Sanctum.Api.Tests.Operations
{
    /// <summary>Puts Operations (the container build, the admin commands) first.</summary>
    [SetUpFixture, Order(1)]
    public sealed class OperationsFirst;
}
