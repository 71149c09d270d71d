"""Build the M2-her `messages` for one persona turn, native roles or flattened, and clean
the reply that comes back.
"""

from bot.prompt.builder import BuiltPrompt, build_messages
from bot.prompt.cuts import Cut, shorten, summarize_cuts
from bot.prompt.examples import ExamplePair, parse_example_dialogue, resolve_macros
from bot.prompt.notes import NOTES_SPEAKER, ContextNote
from bot.prompt.players import players_in_order
from bot.prompt.system import MEMORY_SPEAKER

__all__ = [
    "MEMORY_SPEAKER",
    "NOTES_SPEAKER",
    "BuiltPrompt",
    "ContextNote",
    "Cut",
    "ExamplePair",
    "build_messages",
    "parse_example_dialogue",
    "players_in_order",
    "resolve_macros",
    "shorten",
    "summarize_cuts",
]
