"""Lorebooks: a guild's or a scene's book of lore, kept whole as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, get_args

from bot.memory.backend import StoreBase, upsert
from bot.memory.channels import dump_json
from bot.memory.records import LorebookScope

_UPSERT_LOREBOOK = upsert("lorebooks", "scope owner_id book updated_at", "scope owner_id")
_WHERE = "WHERE scope = $1 AND owner_id = $2"


class LorebooksMixin(StoreBase):
    """Lorebooks are authored content, like settings: wiping a scene's memory keeps its book."""

    async def get_lorebook(self, scope: LorebookScope, owner_id: int) -> dict[str, Any] | None:
        """The lorebook of a guild (`owner_id`: its id) or a scene (its channel id), or None.

        Raises:
            ValueError: `scope` is neither "guild" nor "scene".

        """
        text = await self._value(f"SELECT book FROM lorebooks {_WHERE}", _scope(scope), owner_id)
        return None if text is None else dict(json.loads(text))

    async def save_lorebook(
        self, scope: LorebookScope, owner_id: int, book: Mapping[str, Any]
    ) -> None:
        """Create or replace a whole lorebook at once (the caller validates its contents).

        Raises:
            ValueError: `scope` is neither "guild" nor "scene", or the book is not JSON.

        """
        text = dump_json(dict(book), f"the {scope} lorebook of {owner_id}")
        await self._value(_UPSERT_LOREBOOK, _scope(scope), owner_id, text, self._clock())

    async def delete_lorebook(self, scope: LorebookScope, owner_id: int) -> bool:
        """Remove a lorebook; False if there was none.

        Raises:
            ValueError: `scope` is neither "guild" nor "scene".

        """
        return bool(await self._count(f"DELETE FROM lorebooks {_WHERE}", _scope(scope), owner_id))


def _scope(scope: str) -> str:
    if scope not in get_args(LorebookScope):
        raise ValueError(f"a lorebook's scope is one of {get_args(LorebookScope)}, not {scope!r}")
    return scope
