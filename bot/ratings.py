"""Content ratings: which personas are for adults, and where Discord lets them speak.

Discord requires adult content to stay in age-restricted channels ("Age-Restricted Channel"
in a channel's settings; a thread follows its parent channel — the caller passes the parent's
setting). Plain functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.models import Persona

ADULT_TAGS = frozenset({"nsfw", "18+", "adult", "explicit", "r18", "r-18", "mature", "smut"})
"""Card tags that mark a persona as for adults (compared case-insensitively)."""

DISCORD_SETTING = "**Age-Restricted Channel** (channel settings → Overview)"

GENERAL_RATING = (
    "Content rating: this channel is for everyone. Keep every reply suitable for all ages: "
    "no sexual content, no graphic violence or gore."
)
ADULT_RATING = "Content rating: this channel is age-restricted; mature themes are allowed."


def card_tags(card: Mapping[str, Any]) -> list[str]:
    """The tags of a character card, whatever shape they come in."""
    tags = card.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, Iterable):
        return []
    return [str(tag).strip() for tag in tags if str(tag).strip()]


def is_adult(persona: Persona, override: bool | None = None) -> bool:
    """Whether a persona is for adults: an admin's mark wins, else its card's tags."""
    if override is not None:
        return override
    return any(tag.casefold() in ADULT_TAGS for tag in card_tags(persona.card))


def rating_line(age_restricted: bool) -> str:
    """The sentence the persona's system text carries about the channel's rating."""
    return ADULT_RATING if age_restricted else GENERAL_RATING


def seating_refusal(names: Iterable[str], channel_mention: str) -> str:
    """Why adult personas can't be seated in a channel that is not age-restricted."""
    listed = ", ".join(f"**{name}**" for name in names)
    return (
        f"{listed} is marked for adults, and {channel_mention} is not age-restricted. Turn on "
        f"{DISCORD_SETTING} for this channel (a thread follows its parent channel), or pick "
        "another persona."
    )


def pause_notice(names: Iterable[str]) -> str:
    """What the scene says when it pauses because the channel lost its age restriction."""
    listed = ", ".join(f"**{name}**" for name in names)
    return (
        f"⏸️ The scene is paused: {listed} is marked for adults and this channel is no longer "
        f"age-restricted. Turn {DISCORD_SETTING} back on, or remove the persona with "
        "`/scene cast remove`."
    )
