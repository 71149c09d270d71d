"""The roleplay engine: the one place that composes memory, prompt building and the model.

It knows nothing of Discord: the Discord layer hands it plain records and gets text events back.
`Engine` is assembled from small parts: the channel memory it caches (`memory`), turns held
across processes (`leases`), the replies it asks the model for (`replies`) and the rolling
summaries it folds old history into (`folding`).
"""

from bot.engine.core import Engine
from bot.engine.types import EngineConfig, PreparedTurn, PromptInputs

__all__ = ["Engine", "EngineConfig", "PreparedTurn", "PromptInputs"]
