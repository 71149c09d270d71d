"""The lorebook entry form and the listings the /lore commands show."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import discord

from bot.bot import reply_ephemeral, report_failure
from bot.lore import LoreEntry
from bot.lore.formats import MAX_CONTENT_CHARS
from bot.ui.persona_views import clip
from bot.ui.scene_views import Interaction

FORM_CONTENT_CHARS = 4000
LIST_LIMIT = 3900


class EntryModal(discord.ui.Modal):
    """Edit one entry: its keys, secondary keys, content and insertion order."""

    def __init__(
        self,
        entry: LoreEntry,
        on_save: Callable[[Interaction, LoreEntry], Awaitable[None]],
    ) -> None:
        super().__init__(title=f"Lore entry {entry.uid}"[:45], timeout=900)
        self._entry = entry
        self._on_save = on_save
        self.keys: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Keys (comma-separated)", default=", ".join(entry.keys), max_length=1000,
            required=not entry.constant,
        )  # fmt: skip
        self.secondary: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Secondary keys (optional)",
            default=", ".join(entry.secondary_keys) or None,
            max_length=1000,
            required=False,
        )
        self.content: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Content",
            style=discord.TextStyle.paragraph,
            default=entry.content or None,
            max_length=min(FORM_CONTENT_CHARS, MAX_CONTENT_CHARS),
        )
        self.order: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
            label="Insertion order (higher = more important)",
            default=str(entry.order),
            max_length=9,
        )
        for item in (self.keys, self.secondary, self.content, self.order):
            self.add_item(item)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Hand the edited entry over."""
        try:
            order = int(self.order.value.strip())
        except ValueError:
            await reply_ephemeral(interaction, "The insertion order must be a whole number.")
            return
        secondary = split_keys(self.secondary.value)
        edited = dataclasses.replace(
            self._entry,
            keys=split_keys(self.keys.value),
            content=self.content.value,
            secondary_keys=secondary,
            selective=bool(secondary) or self._entry.selective,
            order=order,
        )
        await self._on_save(interaction, edited)

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception
    ) -> None:
        """Show expected errors; log unexpected ones with an id the user can quote."""
        await report_failure(interaction, error)


def split_keys(text: str | None) -> tuple[str, ...]:
    """Keys typed as "a, b, c" (blank ones dropped, duplicates once)."""
    keys = (" ".join(key.split()) for key in (text or "").split(","))
    return tuple(dict.fromkeys(key for key in keys if key))


def entry_line(entry: LoreEntry) -> str:
    """One entry in a listing."""
    flags = []
    if entry.constant:
        flags.append("constant")
    if not entry.enabled:
        flags.append("off")
    if entry.secondary_keys:
        flags.append(f"+{len(entry.secondary_keys)} secondary")
    tail = f" ({', '.join(flags)})" if flags else ""
    keys = ", ".join(entry.keys) or "—"
    title = discord.utils.escape_markdown(entry.title)
    return f"`{entry.uid}` **{title}** · {keys} · order {entry.order}{tail}"


def listing(entries: list[LoreEntry], heading: str) -> str:
    """A listing that fits one Discord message."""
    lines = [heading]
    for entry in sorted(entries, key=lambda e: (-e.order, e.uid)):
        line = entry_line(entry)
        if sum(len(x) + 1 for x in lines) + len(line) > LIST_LIMIT:
            lines.append(f"… and more; `/lore show` shows one, `/lore export` all {len(entries)}.")
            break
        lines.append(line)
    return "\n".join(lines)


def entry_text(entry: LoreEntry) -> str:
    """One entry in full."""
    parts = [entry_line(entry)]
    if entry.secondary_keys:
        parts.append(f"Secondary keys ({entry.logic.name}): {', '.join(entry.secondary_keys)}")
    parts.append(f">>> {entry.content}" if entry.content else "*(no content)*")
    return clip("\n".join(parts), 1990)
