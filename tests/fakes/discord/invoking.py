"""Interaction actors of FakeDiscord: slash, autocomplete, context menus, clicks, modals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import FakeBase
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMMAND,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    USER_COMMAND,
    FakeInteraction,
    InteractionCall,
    component_data,
    context_menu_data,
    modal_data,
    slash_data,
)
from .permissions import Permission
from .world import Channel


class InteractionsMixin(FakeBase):
    """Create interactions the way Discord's client would, and inspect them."""

    async def _dispatch_interaction(self, interaction: FakeInteraction) -> FakeInteraction:
        self._core.hub.dispatch(
            "INTERACTION_CREATE", interaction.payload, guild_id=interaction.guild_id
        )
        await self._core.hub.drain()
        return interaction

    def _interaction_channel(self, channel_id: int, user_id: int, guild_id: int | None) -> Channel:
        channel = self._speaker_channel(channel_id, user_id)
        if guild_id is not None and channel.guild_id != guild_id:
            raise ValueError(f"channel {channel_id} is not in guild {guild_id}")
        return channel

    async def slash(
        self,
        command: str,
        *,
        user_id: int,
        channel_id: int,
        guild_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """Invoke a registered slash command: "name", "name sub" or "name group sub".

        Option values: str/int/float/bool; user, role and channel ids (or `User`); attachment
        dicts from `serve_attachment` or `(filename, bytes)`. Raises ValueError for anything
        Discord's client would refuse to send (unknown command/option, missing required option).
        """
        channel = self._interaction_channel(channel_id, user_id, guild_id)
        self._check_command_visible(command, user_id, channel)
        data = slash_data(
            self.world,
            self._core.commands,
            command,
            dict(options or {}),
            guild_id=channel.guild_id,
            channel=channel,
            attach=lambda name, raw: self.serve_attachment(name, raw),
        )
        interaction = self._core.interactions.create(
            APPLICATION_COMMAND, channel, user_id, data, locale=locale
        )
        return await self._dispatch_interaction(interaction)

    def _check_command_visible(self, command: str, user_id: int, channel: Channel) -> None:
        """Discord's client never offers a command the user may not use here."""
        registered = self._core.commands.find(command.split()[0], channel.guild_id)
        if registered is None:
            return  # slash_data reports unregistered commands
        contexts = registered.get("contexts")
        context = 1 if channel.is_dm else 0
        if contexts is not None and context not in contexts:
            raise ValueError(f"/{command} is not available in this context ({context})")
        if channel.is_dm and registered.get("dm_permission") is False:
            raise ValueError(f"/{command} is not available in DMs")
        required = registered.get("default_member_permissions")
        if required is not None and not channel.is_dm:
            needed = int(required)
            held = self.world.permissions(user_id, channel.id)
            if held & needed != needed and not held & Permission.ADMINISTRATOR:
                raise ValueError(f"user {user_id} lacks the permissions /{command} requires")

    async def autocomplete(
        self,
        command: str,
        *,
        focused: str,
        value: str,
        user_id: int,
        channel_id: int,
        options: Mapping[str, Any] | None = None,
    ) -> FakeInteraction:
        """A user types `value` into option `focused`; the bot's choices land on the interaction."""
        channel = self._interaction_channel(channel_id, user_id, None)
        data = slash_data(
            self.world,
            self._core.commands,
            command,
            {**(options or {}), focused: value},
            guild_id=channel.guild_id,
            channel=channel,
            attach=lambda name, raw: self.serve_attachment(name, raw),
            focused=focused,
        )
        interaction = self._core.interactions.create(AUTOCOMPLETE, channel, user_id, data)
        return await self._dispatch_interaction(interaction)

    async def message_command(self, name: str, *, message_id: int, user_id: int) -> FakeInteraction:
        """A user runs the message context-menu command `name` on a message."""
        target = self.message(message_id)
        channel = self._speaker_channel(target.channel_id, user_id)
        data = context_menu_data(
            self.world,
            self._core.commands,
            name,
            MESSAGE_COMMAND,
            guild_id=channel.guild_id,
            channel=channel,
            target_id=message_id,
        )
        interaction = self._core.interactions.create(APPLICATION_COMMAND, channel, user_id, data)
        return await self._dispatch_interaction(interaction)

    async def user_command(
        self, name: str, *, target_id: int, user_id: int, channel_id: int
    ) -> FakeInteraction:
        """A user runs the user context-menu command `name` on `target_id`."""
        channel = self._speaker_channel(channel_id, user_id)
        data = context_menu_data(
            self.world,
            self._core.commands,
            name,
            USER_COMMAND,
            guild_id=channel.guild_id,
            channel=channel,
            target_id=target_id,
        )
        interaction = self._core.interactions.create(APPLICATION_COMMAND, channel, user_id, data)
        return await self._dispatch_interaction(interaction)

    async def click(
        self,
        message_id: int,
        custom_id: str,
        user_id: int,
        *,
        values: Sequence[str] | None = None,
    ) -> FakeInteraction:
        """A user clicks a button (or picks `values` in a select) on a message."""
        stored = self.message(message_id)
        channel = self._speaker_channel(stored.channel_id, user_id)
        data = component_data(stored, custom_id, None if values is None else list(values))
        interaction = self._core.interactions.create(
            MESSAGE_COMPONENT, channel, user_id, data, message=stored
        )
        return await self._dispatch_interaction(interaction)

    async def submit_modal(
        self, custom_id: str, values: Mapping[str, Any], user_id: int, channel_id: int
    ) -> FakeInteraction:
        """A user submits the modal `custom_id` with `values` by component custom_id."""
        channel = self._speaker_channel(channel_id, user_id)
        shown = next(
            (
                i
                for i in reversed(list(self._core.interactions))
                if i.modal is not None
                and i.modal.get("custom_id") == custom_id
                and i.user_id == user_id
            ),
            None,
        )
        data = modal_data(None if shown is None else shown.modal, custom_id, values)
        source = None
        if shown is not None and shown.source_message_id is not None:
            source = self.world.messages.get(shown.source_message_id)
        interaction = self._core.interactions.create(
            MODAL_SUBMIT, channel, user_id, data, message=source
        )
        return await self._dispatch_interaction(interaction)

    def interaction(self, interaction_id: int) -> FakeInteraction:
        """An interaction by id."""
        return self._core.interactions.by_id[interaction_id]

    def interaction_responses(self, interaction_id: int) -> list[InteractionCall]:
        """Every callback/@original/followup request made for an interaction, in order."""
        return list(self._core.interactions.by_id[interaction_id].calls)

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Registered commands (global, or one guild's)."""
        return self._core.commands.in_scope(guild_id)
