"""Buttons under the newest reply: regenerate, flip alternatives, continue, stop, retry.

They are dynamic items (`ens:<action>:<reply id>`), so they keep working after a restart.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.engine import Ending, Look

ACTIONS = ("regen", "prev", "next", "cont", "stop", "retry")


class ReplyActions(Protocol):
    """What the buttons ask of the roleplay layer (the Roleplay cog)."""

    async def on_reply_action(
        self, interaction: discord.Interaction[Any], action: str, reply_id: int
    ) -> None:
        """Handle one button press."""
        ...


class ReplyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"ens:(?P<action>regen|prev|next|cont|stop|retry):(?P<reply>\d+)",
):
    """One control button bound to a stored reply."""

    def __init__(
        self,
        action: str,
        reply_id: int,
        *,
        label: str | None = None,
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=f"ens:{action}:{reply_id}",
                label=label,
                emoji=emoji,
                style=style,
                disabled=disabled,
            )
        )
        self.action = action
        self.reply_id = reply_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReplyButton:
        """Rebuild the button from a pressed component's custom id."""
        return cls(match["action"], int(match["reply"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the roleplay cog."""
        handler: ReplyActions | None = interaction.client.get_cog("Roleplay")
        if handler is None:
            await interaction.response.send_message("Roleplay is not running.", ephemeral=True)
            return
        await handler.on_reply_action(interaction, self.action, self.reply_id)


def streaming_controls(reply_id: int) -> discord.ui.View:
    """The stop button shown while a reply streams."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReplyButton("stop", reply_id, emoji="⏹️", label="Stop"))
    return view


def ending_controls(ending: Ending) -> discord.ui.View | None:
    """The buttons a reply gets in its terminal look (None: a greeting, no buttons)."""
    controls = ending.controls
    if controls is None:
        return None
    failed = ending.look in (Look.FAILED, Look.INTERRUPTED)
    can_continue = ending.look is Look.CUT or (
        ending.look is Look.INTERRUPTED and bool(ending.text.strip())
    )
    return reply_controls(
        controls.reply_id,
        swipe_index=controls.swipe_index,
        swipe_count=controls.swipe_count,
        can_continue=can_continue,
        failed=failed,
    )


def reply_controls(
    reply_id: int,
    *,
    swipe_index: int,
    swipe_count: int,
    can_continue: bool,
    failed: bool,
) -> discord.ui.View:
    """The buttons under the newest finished reply."""
    view = discord.ui.View(timeout=None)
    if failed:
        view.add_item(
            ReplyButton(
                "retry", reply_id, emoji="🔁", label="Retry", style=discord.ButtonStyle.primary
            )
        )
    else:
        view.add_item(ReplyButton("regen", reply_id, emoji="🔄"))
    if swipe_count > 1:
        view.add_item(ReplyButton("prev", reply_id, emoji="◀️", disabled=swipe_index <= 0))
        view.add_item(
            ReplyButton(
                "next",
                reply_id,
                emoji="▶️",
                label=f"{swipe_index + 1}/{swipe_count}",
                disabled=swipe_index >= swipe_count - 1,
            )
        )
    if can_continue:
        view.add_item(ReplyButton("cont", reply_id, emoji="⏩", label="Continue"))
    return view
