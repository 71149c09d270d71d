"""The roleplay engine: the scene runtime that owns every turn and every reply's life.

It knows nothing of Discord: cogs hand it plain events (`IncomingMessage`) and intents, and
Discord shows what it decides through the `ScenePort` that `bot/ui/` implements.
"""

from bot.engine.port import (
    Controls,
    Ending,
    IncomingMessage,
    Look,
    MessageGone,
    PortError,
    ReplyOutlet,
    ReplyText,
    ScenePort,
    Shown,
)
from bot.engine.reply import ReplyOutcome, StopReason
from bot.engine.runtime import SceneRuntime
from bot.engine.types import EngineConfig, PreparedTurn, PromptInputs
from bot.memory import ChannelConfig, MessageRecord, OocMode, Summary

__all__ = [
    "ChannelConfig",
    "Controls",
    "Ending",
    "EngineConfig",
    "IncomingMessage",
    "Look",
    "MessageGone",
    "MessageRecord",
    "OocMode",
    "PortError",
    "PreparedTurn",
    "PromptInputs",
    "ReplyOutcome",
    "ReplyOutlet",
    "ReplyText",
    "ScenePort",
    "SceneRuntime",
    "Shown",
    "StopReason",
    "Summary",
]
