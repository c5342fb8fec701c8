using System.Text.Json;
using System.Text.Json.Serialization;

namespace Umem.Protocol.Admin;

/// <summary>The admin payloads' JSON (source-generated): camelCase names, enums as their wire names, no nulls written.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true, RespectNullableAnnotations = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = false, MaxDepth = 16)]
[JsonSerializable(typeof(AdminRequest))]
[JsonSerializable(typeof(AdminReply))]
public sealed partial class AdminJson : JsonSerializerContext
{
    /// <summary>
    /// Reads a request payload; null with the reason when it is not one (not UTF-8 JSON, an unknown field, a wrong
    /// type, or a field that does not fit the operation).
    /// </summary>
    public static AdminRequest? ReadRequest(ReadOnlySpan<byte> payload, out string? problem)
    {
        AdminRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(payload, Default.AdminRequest);
        }
        catch (JsonException e)
        {
            problem = $"not an admin request: {e.Message}";
            return null;
        }
        problem = request is null ? "not an admin request: null" : request.Validate();
        return problem is null ? request : null;
    }
}
