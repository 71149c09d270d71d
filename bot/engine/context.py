"""Per-turn context: the lore that fires and the older passages worth remembering.

Both go into the request's last message ("Scene notes"), after the history, so they never
disturb the cached prefix. Lore comes from three books — the persona's card, the scene's and
the server's — compiled once per version and kept here. Recall asks the store's full-text
index only when the newest lines name something the recent history does not mention: most
turns cost no query at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.engine.memory import SceneMemory
from bot.engine.types import TurnContext
from bot.lore import Activation, CompiledBook, Lorebook, LoreError, activate, from_card_book
from bot.lore import from_storage as book_from_storage
from bot.lore.model import Scope
from bot.memory import ChannelConfig, LorebookScope, RecallHit
from bot.models import HistoryLine, Persona
from bot.once import Loader
from bot.prompt import ContextNote

LORE_LABEL = "Lore"
MEMORY_LABEL = "Memories"
RECALL_FROM_LINES = 2
"""The newest lines whose words are looked up in the scene's older memory."""
RECENT_LINES = 200
"""Words already said in this many recent lines need no recall."""
MAX_RECALL_TERMS = 12
_WORD = re.compile(r"[^\W\d_][\w'’-]{3,}", re.UNICODE)
_COMMON_WORDS = """
about above after again against also another anyone anything around away back because
been before behind being below between both cannot come could does doing done down
during each else even ever every from further gets give goes going gone have having here
hers herself himself however into itself just keep know last later least less like look
made make many maybe might mine more most much must myself near never next none nothing
once only other ours over perhaps please quite rather really same says seem shall should
since some something soon still such sure take tell than that their theirs them then
there these they thing think this those though through thus till time today together
told took toward under until upon very want was were what when where whether which while
will with within without would yeah your yours yourself
"""
_COMMON = frozenset(_COMMON_WORDS.split())


class ContextGatherer:
    """Builds a turn's notes from the lorebooks and the scene's long-term memory."""

    def __init__(self, memory: SceneMemory) -> None:
        self._memory = memory
        self._books: Loader[tuple[LorebookScope, int], CompiledBook | None] = Loader()
        self._persona_books: dict[str, tuple[object, CompiledBook | None]] = {}

    async def gather(
        self,
        config: ChannelConfig,
        persona: Persona,
        history: Sequence[HistoryLine],
        *,
        after_id: int | None,
        before_id: int | None,
        whole: bool,
    ) -> TurnContext:
        """The notes for `persona`'s turn with this history (newest line last); `whole` says
        that the history holds the entire scene, so there is nothing older to recall.
        """
        knobs = self._memory.config
        books = [book for book in await self.books(config, persona) if book is not None]
        lore = Activation()
        notes: list[ContextNote] = []
        if books and knobs.lore_tokens > 0:
            depth = max(book.depth for book in books)
            lines = [f"{line.speaker}: {line.text}" for line in history[-max(depth, 1) :]]
            lore = activate(
                books,
                lines,
                budget_tokens=knobs.lore_tokens,
                count_tokens=self._memory.estimator.count,
            )
            if lore.fired:
                text = "\n\n".join(hit.entry.content.strip() for hit in lore.fired)
                notes.append(ContextNote(LORE_LABEL, text, knobs.lore_tokens))
        # A young scene's window holds all of it: nothing older to recall, no query.
        terms = self.recall_terms(history) if knobs.recall_passages > 0 and not whole else ()
        recalled: tuple[RecallHit, ...] = ()
        if terms:
            recalled = tuple(
                await self._memory.store.recall(
                    config.channel_id,
                    terms,
                    before_id=before_id,
                    after_id=after_id,
                    persona_id=persona.id if after_id else None,
                    limit=knobs.recall_passages,
                )
            )
            if recalled:
                text = "\n".join(_passage(hit) for hit in recalled)
                notes.append(ContextNote(MEMORY_LABEL, text, knobs.recall_tokens))
        return TurnContext(tuple(notes), lore, recalled, terms)

    @staticmethod
    def recall_terms(history: Sequence[HistoryLine]) -> tuple[str, ...]:
        """Words of the newest lines that the recent history does not already mention."""
        if not history:
            return ()
        newest = " ".join(line.text for line in history[-RECALL_FROM_LINES:])
        words: dict[str, str] = {}
        for match in _WORD.finditer(newest):
            word = match.group().strip("'’-")
            folded = word.casefold()
            if len(folded) >= 4 and folded not in _COMMON:
                words.setdefault(folded, word)
        if not words:
            return ()
        recent = history[-RECENT_LINES:-RECALL_FROM_LINES]
        for line in recent:
            text = line.text.casefold()
            for folded in [w for w in words if w in text]:
                del words[folded]
            if not words:
                return ()
        return tuple(list(words.values())[:MAX_RECALL_TERMS])

    async def warm(self, config: ChannelConfig) -> None:
        """Read the scene's and the server's books now, before the first turn needs them."""
        await self._stored("scene", config.channel_id)
        await self._stored("guild", config.guild_id)

    async def books(self, config: ChannelConfig, persona: Persona) -> list[CompiledBook | None]:
        """The persona's own book, the scene's and the server's (None where there is none)."""
        return [
            self._persona_book(persona),
            await self._stored("scene", config.channel_id),
            await self._stored("guild", config.guild_id),
        ]

    def _persona_book(self, persona: Persona) -> CompiledBook | None:
        raw = persona.card.get("character_book")
        cached = self._persona_books.get(persona.id)
        if cached is not None and cached[0] is raw:
            return cached[1]
        compiled = None
        if isinstance(raw, dict):
            try:
                compiled = CompiledBook("persona", from_card_book(raw))
            except LoreError:
                compiled = None  # a card's broken book is ignored, as the card import warned
        self._persona_books[persona.id] = (raw, compiled)
        return compiled

    async def _stored(self, scope: LorebookScope, owner_id: int) -> CompiledBook | None:
        async def load() -> CompiledBook | None:
            book = await self.stored_book(scope, owner_id)
            shown: Scope = "scene" if scope == "scene" else "server"
            return CompiledBook(shown, book) if book is not None else None

        return await self._books.get((scope, owner_id), load)

    async def stored_book(self, scope: LorebookScope, owner_id: int) -> Lorebook | None:
        """A scene's or a server's book as stored (None if there is none)."""
        stored = await self._memory.store.get_lorebook(scope, owner_id)
        if stored is None:
            return None
        try:
            return book_from_storage(stored)
        except LoreError:
            return None  # saved books were validated; one that no longer reads is skipped

    def book_changed(self, scope: LorebookScope, owner_id: int) -> None:
        """A stored book was saved or removed: compile it again on next use."""
        self._books.forget((scope, owner_id))


def _passage(hit: RecallHit) -> str:
    if hit.kind == "summary":
        return f"(earlier summary) {hit.text}"
    return f"{hit.author_name}: {hit.text}"
