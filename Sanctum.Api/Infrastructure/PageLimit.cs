namespace Sanctum.Api.Infrastructure;

/// <summary>
/// Endpoint metadata: the endpoint's <c>limit</c> query parameter takes 1 to <paramref name="MaxLimit"/>, so it answers
/// at most that many entries. OpenApi/ParameterRules.cs writes the range, OpenApi/OperationConventions.cs the
/// maxItems of an answer that is a JSON array.
/// </summary>
public sealed record PageLimit(int MaxLimit);

public static class PageLimitExtensions
{
    public static TBuilder Paged<TBuilder>(this TBuilder builder, int maxLimit) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PageLimit(maxLimit));
}
