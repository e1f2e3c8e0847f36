using System.Net;

namespace Sanctum.Api.Infrastructure;

/// <summary>Who sent a request, as far as the connection tells (sessions, rate limits and the audit log record it).</summary>
public static class Caller
{
    /// <summary>The client's address (the forwarded one behind a trusted proxy); loopback for an in-process host.</summary>
    public static string Address(HttpContext context) =>
        (context.Connection.RemoteIpAddress ?? IPAddress.Loopback).ToString();

    /// <summary>Whether the client (the forwarded one behind a trusted proxy) is this machine; no address is an in-process host.</summary>
    public static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is not { } address || IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>The client's User-Agent as stored beside a session: null when absent, at most 512 characters.</summary>
    public static string? UserAgent(HttpContext context) =>
        context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent[..Math.Min(agent.Length, 512)] : null;
}
