"""The SQLite backend of the memory store."""

from bot.memory.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
