"""The fake's world: users, guilds, roles, channels, threads, webhooks and stored messages."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from .permissions import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    apply_overwrites,
)
from .snowflakes import SnowflakeFactory, now_iso, snowflake_iso


class ChannelType(IntEnum):
    """The channel types the fake models."""

    GUILD_TEXT = 0
    DM = 1
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


@dataclass
class User:
    """A Discord user (human or bot)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    color: int = 0


@dataclass
class Member:
    """A user's membership of a guild."""

    user_id: int
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=now_iso)


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (kind 0) or a member (kind 1)."""

    target_id: int
    kind: int
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A text channel, thread or DM channel."""

    id: int
    type: ChannelType
    name: str | None
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    owner_id: int | None = None
    recipient_ids: list[int] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    message_count: int = 0
    last_message_id: int | None = None
    rate_limit_per_user: int = 0
    nsfw: bool = False
    """Discord's "Age-Restricted Channel" setting (threads follow their parent)."""

    @property
    def is_thread(self) -> bool:
        """Whether this is a public or private thread."""
        return self.type in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)

    @property
    def is_dm(self) -> bool:
        """Whether this is a direct-message channel."""
        return self.type is ChannelType.DM


@dataclass
class Guild:
    """A guild with its roles, members and channel ids (threads included)."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    locale: str = "en-US"


@dataclass
class Webhook:
    """An incoming webhook bound to a text channel."""

    id: int
    token: str
    channel_id: int
    guild_id: int
    name: str
    avatar: str | None = None
    """The avatar hash served in webhook objects and on the messages it authors."""
    application_id: int | None = None
    creator_id: int | None = None
    avatar_image: bytes | None = None
    """The decoded image last uploaded as the avatar (what Discord would put on its CDN)."""
    avatar_type: str | None = None
    """The uploaded image's media type, e.g. "image/png"."""

    def set_avatar(self, image: bytes | None, media_type: str | None = None) -> None:
        """Store an uploaded avatar (None clears it) and derive its hash, as Discord does."""
        self.avatar_image = image
        self.avatar_type = media_type if image is not None else None
        self.avatar = None if image is None else avatar_hash(image)


@dataclass
class Application:
    """The bot's application; its id equals the bot user's id, as for every modern app."""

    id: int
    name: str
    owner_id: int
    approved_intents: int
    description: str = ""


@dataclass
class StoredMessage:
    """A message as the fake currently holds it, plus what the sender last asked for.

    `payload` is the exact message object the fake serves (REST) and dispatches (gateway).
    """

    payload: dict[str, Any]
    allowed_mentions: dict[str, Any] | None = None
    avatar_url: str | None = None
    content_history: list[str] = field(default_factory=list)
    deleted: bool = False
    interaction_id: int | None = None

    @property
    def id(self) -> int:
        """The message id."""
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        """The channel (or thread) the message lives in."""
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        """Current content."""
        return str(self.payload["content"])

    @property
    def author_id(self) -> int:
        """Author user id (the webhook id for webhook messages)."""
        return int(self.payload["author"]["id"])

    @property
    def username(self) -> str:
        """Author name as displayed (the per-message username for webhook messages)."""
        return str(self.payload["author"]["username"])

    @property
    def webhook_id(self) -> int | None:
        """Id of the webhook that sent it, if any."""
        raw = self.payload.get("webhook_id")
        return None if raw is None else int(raw)

    @property
    def flags(self) -> int:
        """Message flags (64 ephemeral, 128 loading, 4096 silent...)."""
        return int(self.payload.get("flags", 0))

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """Current embeds."""
        return list(self.payload.get("embeds", []))

    @property
    def components(self) -> list[dict[str, Any]]:
        """Current components."""
        return list(self.payload.get("components", []))

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """Current attachments."""
        return list(self.payload.get("attachments", []))

    @property
    def edit_count(self) -> int:
        """How many times the content changed after creation."""
        return max(len(self.content_history) - 1, 0)


def avatar_hash(image: bytes) -> str:
    """A Discord-shaped avatar hash (32 hex digits) that changes whenever the image does."""
    return hashlib.sha256(image).hexdigest()[:32]


class World:
    """All state of the fake Discord, with builders that create real-format snowflakes."""

    def __init__(
        self, snowflakes: SnowflakeFactory, *, bot_name: str, approved_intents: int
    ) -> None:
        self.snowflakes = snowflakes
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.bot_user = self.add_user(bot_name, bot=True)
        self.owner = self.add_user("app-owner")
        self.application = Application(
            id=self.bot_user.id,
            name=bot_name,
            owner_id=self.owner.id,
            approved_intents=approved_intents,
        )

    # -- builders -------------------------------------------------------------------------

    def add_user(self, username: str, *, bot: bool = False, global_name: str | None = None) -> User:
        """Create a user (a human unless `bot`)."""
        user = User(id=self.snowflakes.next(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner_id: int | None = None,
        shard: tuple[int, int] | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> Guild:
        """Create a guild with @everyone, a managed bot role and the bot as a member.

        `shard=(id, count)` picks an id that Discord's formula routes to that shard.
        """
        guild_id = self.snowflakes.next(shard=shard)
        owner = owner_id if owner_id is not None else self.owner.id
        guild = Guild(id=guild_id, name=name, owner_id=owner)
        guild.roles[guild_id] = Role(
            id=guild_id, guild_id=guild_id, name="@everyone", permissions=everyone_permissions
        )
        self.guilds[guild_id] = guild
        bot_role = self.add_role(guild_id, self.bot_user.username, bot_permissions, managed=True)
        self.add_member(guild_id, self.bot_user.id, roles=(bot_role.id,))
        if owner not in guild.members and owner in self.users:
            self.add_member(guild_id, owner)
        return guild

    def add_role(
        self, guild_id: int, name: str, permissions: int = 0, *, managed: bool = False
    ) -> Role:
        """Create a role in a guild."""
        guild = self.guilds[guild_id]
        role = Role(
            id=self.snowflakes.next(),
            guild_id=guild_id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            managed=managed,
        )
        guild.roles[role.id] = role
        return role

    def add_member(
        self, guild_id: int, user_id: int, *, roles: tuple[int, ...] = (), nick: str | None = None
    ) -> Member:
        """Add an existing user to a guild with the given role ids."""
        member = Member(user_id=user_id, guild_id=guild_id, role_ids=list(roles), nick=nick)
        self.guilds[guild_id].members[user_id] = member
        return member

    def add_text_channel(
        self, guild_id: int, name: str, *, topic: str | None = None, nsfw: bool = False
    ) -> Channel:
        """Create a text channel in a guild (`nsfw`: age-restricted)."""
        guild = self.guilds[guild_id]
        channel = Channel(
            id=self.snowflakes.next(),
            type=ChannelType.GUILD_TEXT,
            name=name,
            guild_id=guild_id,
            position=len(guild.channel_ids),
            topic=topic,
            nsfw=nsfw,
        )
        return self._register_channel(channel)

    def add_thread(
        self,
        parent_id: int,
        name: str,
        *,
        owner_id: int | None = None,
        private: bool = False,
        thread_id: int | None = None,
    ) -> Channel:
        """Create a thread in a text channel (`thread_id` reuses a starter message's id)."""
        parent = self.channels[parent_id]
        kind = ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD
        thread = Channel(
            id=thread_id or self.snowflakes.next(),
            type=kind,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent_id,
            owner_id=owner_id if owner_id is not None else self.bot_user.id,
        )
        return self._register_channel(thread)

    def dm_channel(self, user_id: int) -> Channel:
        """The DM channel between the bot and a user (created on first use)."""
        for channel in self.channels.values():
            if channel.is_dm and channel.recipient_ids == [user_id]:
                return channel
        channel = Channel(
            id=self.snowflakes.next(), type=ChannelType.DM, name=None, recipient_ids=[user_id]
        )
        return self._register_channel(channel)

    def add_webhook(
        self,
        channel_id: int,
        name: str,
        *,
        application_id: int | None,
        creator_id: int | None,
        avatar: str | None = None,
        avatar_image: bytes | None = None,
        avatar_type: str | None = None,
    ) -> Webhook:
        """Create an incoming webhook on a text channel (`avatar_image` wins over `avatar`)."""
        channel = self.channels[channel_id]
        assert channel.guild_id is not None, "webhooks live in guild text channels"
        hook = Webhook(
            id=self.snowflakes.next(),
            token=secrets.token_urlsafe(48),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            name=name,
            avatar=avatar,
            application_id=application_id,
            creator_id=creator_id,
        )
        if avatar_image is not None:
            hook.set_avatar(avatar_image, avatar_type)
        self.webhooks[hook.id] = hook
        return hook

    def set_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a channel overwrite for a role or a member (kind inferred from the id)."""
        channel = self.channels[channel_id]
        guild = self.guild_of(channel)
        assert guild is not None, "overwrites need a guild channel"
        kind = 0 if target_id in guild.roles else 1
        channel.overwrites[target_id] = Overwrite(
            target_id=target_id, kind=kind, allow=allow, deny=deny
        )

    def _register_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        self.channel_messages.setdefault(channel.id, [])
        if channel.guild_id is not None:
            self.guilds[channel.guild_id].channel_ids.append(channel.id)
        return channel

    # -- lookups --------------------------------------------------------------------------

    def guild_of(self, channel: Channel) -> Guild | None:
        """The guild a channel or thread belongs to (None for DMs)."""
        return None if channel.guild_id is None else self.guilds.get(channel.guild_id)

    def permission_root(self, channel: Channel) -> Channel:
        """The channel whose overwrites apply (a thread's parent)."""
        if channel.is_thread and channel.parent_id is not None:
            return self.channels[channel.parent_id]
        return channel

    def guild_permissions(self, guild: Guild, user_id: int) -> int:
        """A member's guild-level permissions (roles only)."""
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        perms = guild.roles[guild.id].permissions
        if member is not None:
            for role_id in member.role_ids:
                role = guild.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        return perms

    def permissions(self, user_id: int, channel_id: int) -> int:
        """A user's effective permissions in a channel (everything in DMs)."""
        channel = self.channels[channel_id]
        guild = self.guild_of(channel)
        if guild is None:
            return ALL_PERMISSIONS
        base = self.guild_permissions(guild, user_id)
        if user_id == guild.owner_id:
            return base
        root = self.permission_root(channel)
        member = guild.members.get(user_id)
        everyone = root.overwrites.get(guild.id)
        role_pairs = [
            (ow.allow, ow.deny)
            for ow in root.overwrites.values()
            if ow.kind == 0 and member is not None and ow.target_id in member.role_ids
        ]
        own = root.overwrites.get(user_id)
        return apply_overwrites(
            base,
            everyone=None if everyone is None else (everyone.allow, everyone.deny),
            roles=role_pairs,
            member=None if own is None or own.kind != 1 else (own.allow, own.deny),
        )

    def live_messages(self, channel_id: int) -> list[StoredMessage]:
        """Messages currently in a channel, oldest first."""
        return [
            self.messages[mid]
            for mid in self.channel_messages.get(channel_id, [])
            if not self.messages[mid].deleted
        ]

    def store_message(self, message: StoredMessage) -> None:
        """Add a new message to its channel."""
        self.messages[message.id] = message
        self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1

    def created_at(self, snowflake: int) -> str:
        """ISO timestamp of an object created with this id."""
        return snowflake_iso(snowflake)
