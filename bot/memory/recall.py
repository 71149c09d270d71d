"""Long-term recall: full-text search of a scene's older lines and summaries (see README,
"Memory and privacy" and "Storage layer"); each backend's SQL lives in its dialect.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from bot.memory.backend import Search, StoreBase
from bot.memory.records import RecallHit
from bot.memory.summaries import summary_key

RECALL_ROWS = 5000
"""The most indexed lines one recall ranks. Words are kept rarest first while together they
match no more; a word found in more lines than that is too common to tell memories apart."""

MAX_WORDS = 16
"""Words of a query looked up; the rest are ignored (the caller picks the telling ones)."""

MAX_WORD_CHARS = 100
"""Longer "words" (pasted links, keyboard mashing) are ignored."""

_NO_LIMIT = 2**63 - 1


class RecallMixin(StoreBase):
    """Searching what a scene remembers."""

    async def recall(
        self,
        channel_id: int,
        query: str | Sequence[str],
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        persona_id: str | None = None,
        include_ooc: bool = False,
        limit: int = 5,
    ) -> list[RecallHit]:
        """The stored lines of a channel, and at most one older summary version, that best
        match `query`, best first.

        `query` is plain words (a string is split at spaces): each is matched literally,
        case and accents ignored, punctuation splitting it into a phrase; search syntax
        means nothing. Only complete and interrupted messages with an id between `after_id`
        and `before_id` (both excluded; pass the window's first id, and a late joiner's
        join point) are searched, out-of-character ones only with `include_ooc`. Summary
        versions are those of `persona_id`'s summary (None: the channel's) that are no longer
        current and cover only messages before `before_id`. Words that match nothing, and
        the commonest once they would rank more than `RECALL_ROWS` lines, are left out; no
        word left means no hits.
        """
        words = recall_words(query)
        if not words or limit <= 0:
            return []
        await self._db.refresh_search(before_id)
        async with self._db.connection() as conn:
            counts = await self._db.count_matches(conn, words, RECALL_ROWS + 1)
            kept = _rarest(words, counts)
            if not kept:
                return []
            search = Search(
                words=tuple(word for word, _ in kept),
                matches=tuple(count for _, count in kept),
                channel_id=channel_id,
                after_id=max(after_id or 0, 0),
                before_id=_NO_LIMIT if before_id is None else before_id,
                summary_key=summary_key(persona_id),
                include_ooc=include_ooc,
                limit=limit,
            )
            rows = await self._db.search(conn, search)
        hits = [RecallHit(row[1], row[0], row[2], row[3], row[4], float(row[5])) for row in rows]
        hits.sort(key=lambda hit: (-hit.score, -hit.created_at))
        return hits[:limit]


def recall_words(query: str | Sequence[str]) -> list[str]:
    """The distinct words of a query (at most `MAX_WORDS`), with everything but letters,
    digits and accents turned into spaces (so no character can act as search syntax).
    """
    pieces = query.split() if isinstance(query, str) else [p for q in query for p in q.split()]
    words: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        if len(piece) > MAX_WORD_CHARS:
            continue
        kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in piece)
        word = " ".join(kept.split())
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            words.append(word)
            if len(words) == MAX_WORDS:
                break
    return words


def _rarest(words: Sequence[str], counts: Sequence[int]) -> list[tuple[str, int]]:
    """Words that match something, rarest first, while together they match at most
    `RECALL_ROWS` lines.
    """
    kept: list[tuple[str, int]] = []
    total = 0
    for word, count in sorted(zip(words, counts, strict=True), key=lambda pair: pair[1]):
        if count == 0:
            continue
        total += count
        if total > RECALL_ROWS:
            break
        kept.append((word, count))
    return kept
