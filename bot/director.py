"""Who speaks next: addressing rules and talkativeness-weighted choice. Pure, no I/O."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.models import Persona


@lru_cache(maxsize=512)
def _call_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if w)
    return re.compile(rf"(?<![\w@#]){'(?:' + alternatives + ')'}(?!\w)", re.IGNORECASE)


_NOT_A_NAME = frozenset(
    {"the", "a", "an", "el", "la", "le", "der", "die", "das", "mr", "mrs", "ms"}
)


def call_words(persona: Persona) -> tuple[str, ...]:
    """Words that address `persona`: its name, its short name and its configured call words.

    The short name is the name without a leading article ("The Narrator" -> "Narrator"), or
    its first word when that is a real name ("Marta Holloway" -> "Marta").
    """
    words = {persona.name.strip(), *(w.strip() for w in persona.call_words)}
    parts = persona.name.split()
    while parts and parts[0].lower().rstrip(".") in _NOT_A_NAME:
        parts = parts[1:]
    if parts:
        words.add(" ".join(parts))
        if len(parts[0]) >= 3:
            words.add(parts[0])
    return tuple(sorted(w for w in words if w))


def named_personas(text: str, cast: Sequence[Persona]) -> list[str]:
    """Ids of cast personas whose call words appear in `text`, in order of first appearance."""
    hits: list[tuple[int, str]] = []
    for persona in cast:
        words = call_words(persona)
        if not words:
            continue
        match = _call_pattern(words).search(text)
        if match:
            hits.append((match.start(), persona.id))
    return [pid for _, pid in sorted(hits)]


@dataclass(frozen=True, slots=True)
class Address:
    """How a human message addressed the scene."""

    bot_mentioned: bool = False
    reply_to_persona: str | None = None


def addressed_persona(text: str, address: Address, cast: Sequence[Persona]) -> str | None:
    """The persona a message explicitly calls on, or None when nobody was addressed.

    A reply to a persona's message wins, then a persona named in the text; a bare mention of
    the bot addresses the scene without naming anyone (the caller then chooses by weight).
    """
    ids = {p.id for p in cast}
    if address.reply_to_persona in ids:
        return address.reply_to_persona
    named = named_personas(text, cast)
    if named:
        return named[0]
    return None


def is_addressed(text: str, address: Address, cast: Sequence[Persona]) -> bool:
    """Whether the message asks the scene for a reply (mention, reply or call word)."""
    return address.bot_mentioned or addressed_persona(text, address, cast) is not None


def choose_speaker(
    cast: Sequence[Persona],
    recent_speakers: Sequence[str],
    *,
    rng: Callable[[], float] = random.random,
) -> str | None:
    """Pick who continues the scene, weighted by talkativeness and how recently each spoke.

    The persona that spoke last is heavily discounted and one that spoke the last two persona
    turns is excluded (when anyone else is available), so nobody holds the floor forever.
    """
    if not cast:
        return None
    if len(cast) == 1:
        return cast[0].id
    last = recent_speakers[-1] if recent_speakers else None
    streak = last is not None and len(recent_speakers) >= 2 and recent_speakers[-2] == last
    weights: list[tuple[str, float]] = []
    for persona in cast:
        weight = max(persona.talkativeness, 0.02)
        if persona.id == last:
            weight = 0.0 if streak else weight * 0.25
        elif persona.id not in recent_speakers[-len(cast) :]:
            weight *= 1.5
        weights.append((persona.id, weight))
    total = sum(w for _, w in weights)
    if total <= 0:
        return next(pid for pid, _ in weights if pid != last)
    point = rng() * total
    for pid, weight in weights:
        point -= weight
        if point < 0:
            return pid
    return weights[-1][0]


def next_in_chain(
    reply_text: str, speaker: str, cast: Sequence[Persona], turns_left: int
) -> str | None:
    """After a persona spoke, the cast member it called on by name, if the budget allows."""
    if turns_left <= 0:
        return None
    for pid in named_personas(reply_text, cast):
        if pid != speaker:
            return pid
    return None
