"""Build the M2-her `messages` for one persona turn, native roles or flattened."""

from bot.prompt.builder import BuiltPrompt, build_messages
from bot.prompt.examples import ExamplePair, parse_example_dialogue, resolve_macros

__all__ = [
    "BuiltPrompt",
    "ExamplePair",
    "build_messages",
    "parse_example_dialogue",
    "resolve_macros",
]
