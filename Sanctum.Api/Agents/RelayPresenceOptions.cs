namespace Sanctum.Api.Agents;

/// <summary>
/// How long an agent counts as present after its relay's last inbox poll (<see cref="RelayPresence"/>): the chat
/// bridge, whose inbox the relays poll, sets it from Sanctum:ChatBridge:RelayWindowSeconds.
/// </summary>
public sealed class RelayPresenceOptions
{
    public int WindowSeconds { get; set; } = 60;
}
