"""World builders of FakeDiscord: users, guilds, roles, channels, overwrites, webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .base import FakeBase
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS
from .world import Channel, Guild, Member, Role, User, Webhook


@dataclass(frozen=True)
class Seed:
    """A ready-made scene: one guild, one text channel, two humans and another bot."""

    guild: Guild
    channel: Channel
    alice: User
    bob: User
    other_bot: User


class BuildersMixin(FakeBase):
    """Synchronous builders; announce objects made after READY with `announce_*`."""

    @property
    def bot_user(self) -> User:
        """The bot account (its id is also the application id)."""
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        """The application id."""
        return self.world.application.id

    def add_user(
        self,
        username: str,
        *,
        bot: bool = False,
        global_name: str | None = None,
        guild_id: int | None = None,
        roles: Sequence[int] = (),
    ) -> User:
        """Create a user; with `guild_id` it also joins that guild with `roles`."""
        user = self.world.add_user(username, bot=bot, global_name=global_name)
        if guild_id is not None:
            self.world.add_member(guild_id, user.id, roles=tuple(roles))
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
        """Create a guild (the bot joins with a managed role holding `bot_permissions`)."""
        return self.world.add_guild(
            name,
            owner_id=owner_id,
            shard=shard,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
        )

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> Role:
        """Create a role."""
        return self.world.add_role(guild_id, name, permissions)

    def add_member(
        self, guild_id: int, user_id: int, *, roles: Sequence[int] = (), nick: str | None = None
    ) -> Member:
        """Add an existing user to a guild."""
        return self.world.add_member(guild_id, user_id, roles=tuple(roles), nick=nick)

    def add_text_channel(
        self, guild_id: int, name: str, *, topic: str | None = None, nsfw: bool = False
    ) -> Channel:
        """Create a text channel (`nsfw`: Discord's "Age-Restricted Channel" setting)."""
        return self.world.add_text_channel(guild_id, name, topic=topic, nsfw=nsfw)

    def add_thread(
        self, channel_id: int, name: str, *, owner_id: int | None = None, private: bool = False
    ) -> Channel:
        """Create a thread (before the bot connects; use `user_creates_thread` afterwards)."""
        return self.world.add_thread(channel_id, name, owner_id=owner_id, private=private)

    def dm_channel(self, user_id: int) -> Channel:
        """The DM channel between the bot and a user."""
        return self.world.dm_channel(user_id)

    def set_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set a permission overwrite on a channel for a role id or a user id."""
        self.world.set_overwrite(channel_id, target_id, allow=allow, deny=deny)

    def deny_bot(self, channel_id: int, permissions: int) -> None:
        """Deny the bot `permissions` in a channel and its threads (e.g. MANAGE_WEBHOOKS)."""
        current = self.world.channels[channel_id].overwrites.get(self.bot_user.id)
        allow = 0 if current is None else current.allow & ~permissions
        deny = permissions | (0 if current is None else current.deny)
        self.world.set_overwrite(channel_id, self.bot_user.id, allow=allow, deny=deny)

    def add_webhook(self, channel_id: int, name: str, *, owner: User | None = None) -> Webhook:
        """Create a webhook (owned by the bot's application unless another bot `owner` is given)."""
        creator = owner or self.bot_user
        app_id = self.application_id if owner is None else creator.id
        return self.world.add_webhook(
            channel_id, name, application_id=app_id, creator_id=creator.id
        )

    def seed(self, *, guild_name: str = "Tavern", channel_name: str = "roleplay") -> Seed:
        """A guild with #roleplay, humans alice and bob, and another bot, all members."""
        guild = self.add_guild(guild_name)
        channel = self.add_text_channel(guild.id, channel_name)
        return Seed(
            guild=guild,
            channel=channel,
            alice=self.add_user("alice", guild_id=guild.id),
            bob=self.add_user("bob", guild_id=guild.id),
            other_bot=self.add_user("OtherBot", bot=True, guild_id=guild.id),
        )
