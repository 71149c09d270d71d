"""The engine: channel memory, cross-process turns, replies and rolling summaries together."""

from __future__ import annotations

from bot.engine.folding import HistoryFolding
from bot.engine.leases import TurnLeases
from bot.engine.replies import Replies


class Engine(Replies, TurnLeases, HistoryFolding):
    """Per-channel memory in, model text out; the only part of the bot that calls the model."""
