using System.Data;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;

namespace Sanctum.Api.Data;

/// <summary>Dapper settings made once at start-up.</summary>
public static class DapperSetup
{
    private static int _done;

    public static void Configure()
    {
        if (Interlocked.Exchange(ref _done, 1) == 1) return;
        // snake_case columns onto PascalCase properties.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new JsonNodeHandler());
    }

    /// <summary>JSON-valued TEXT columns travel as <see cref="JsonNode"/> so they serialize as JSON, not as strings.</summary>
    private sealed class JsonNodeHandler : SqlMapper.TypeHandler<JsonNode?>
    {
        public override void SetValue(IDbDataParameter parameter, JsonNode? value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = value is null ? DBNull.Value : value.ToJsonString();
        }

        public override JsonNode? Parse(object value) =>
            value is string text ? JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false }) : null;
    }
}
