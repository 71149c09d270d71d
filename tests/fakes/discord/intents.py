"""Gateway intent bits and which intent gates which dispatch event."""

from __future__ import annotations

from enum import IntFlag


class Intent(IntFlag):
    """Gateway intents the fake honours."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_WEBHOOKS = 1 << 5
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15


PRIVILEGED_INTENTS = int(Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT)

_GUILD_EVENT_INTENTS = {
    "MESSAGE_CREATE": Intent.GUILD_MESSAGES,
    "MESSAGE_UPDATE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": Intent.GUILD_MESSAGES,
    "TYPING_START": Intent.GUILD_MESSAGE_TYPING,
    "MESSAGE_REACTION_ADD": Intent.GUILD_MESSAGE_REACTIONS,
    "WEBHOOKS_UPDATE": Intent.GUILD_WEBHOOKS,
    "GUILD_MEMBER_ADD": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": Intent.GUILD_MEMBERS,
}
_DM_EVENT_INTENTS = {
    "MESSAGE_CREATE": Intent.DIRECT_MESSAGES,
    "MESSAGE_UPDATE": Intent.DIRECT_MESSAGES,
    "MESSAGE_DELETE": Intent.DIRECT_MESSAGES,
    "CHANNEL_PINS_UPDATE": Intent.DIRECT_MESSAGES,
    "TYPING_START": Intent.DIRECT_MESSAGE_TYPING,
    "MESSAGE_REACTION_ADD": Intent.DIRECT_MESSAGES,
}
_UNGATED = {
    "READY",
    "RESUMED",
    "INTERACTION_CREATE",
    "GUILD_MEMBERS_CHUNK",
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE",
}


def required_intent(event: str, *, in_guild: bool) -> int:
    """The intent a session needs to receive `event` (0 if always delivered)."""
    if event in _UNGATED:
        return 0
    table = _GUILD_EVENT_INTENTS if in_guild else _DM_EVENT_INTENTS
    return int(table.get(event, Intent.GUILDS if in_guild else 0))
