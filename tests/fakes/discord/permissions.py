"""Discord permission bits and the guild/channel permission computation."""

from __future__ import annotations

from enum import IntFlag


class Permission(IntFlag):
    """The permission bits the fake checks or hands out."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 53) - 1

DEFAULT_EVERYONE_PERMISSIONS = int(
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
"""Roughly what a new server grants @everyone."""

DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | int(
    Permission.MANAGE_MESSAGES | Permission.MANAGE_WEBHOOKS | Permission.MANAGE_THREADS
)
"""What the fake bot's managed role grants: everything a roleplay bot needs, no admin."""


def apply_overwrites(
    base: int,
    *,
    everyone: tuple[int, int] | None,
    roles: list[tuple[int, int]],
    member: tuple[int, int] | None,
) -> int:
    """Apply channel overwrites (allow, deny pairs) in Discord's order: @everyone, roles, member."""
    if base & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    perms = base
    if everyone is not None:
        perms = (perms & ~everyone[1]) | everyone[0]
    role_allow = role_deny = 0
    for allow, deny in roles:
        role_allow |= allow
        role_deny |= deny
    perms = (perms & ~role_deny) | role_allow
    if member is not None:
        perms = (perms & ~member[1]) | member[0]
    return perms
