"""Which players get a sheet in the prompt, in an order that never reshuffles."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import AuthorKind, HistoryLine

__all__ = ["players_in_order"]


def players_in_order(history: Sequence[HistoryLine]) -> list[tuple[int, str]]:
    """`(user_id, speaker label)` of every player who wrote in `history`, in order of their
    first line (the label is their latest one).

    Pass the history since the rolling summary: the list then only grows at its end between
    folds, so a newcomer's sheet is appended after the others and the cached prefix holds.
    """
    order: dict[int, str] = {}
    for line in history:
        if line.kind is AuthorKind.HUMAN and line.user_id is not None:
            order[line.user_id] = line.speaker
    return list(order.items())
