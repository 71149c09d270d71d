"""The PostgreSQL backend of the memory store (needs the `postgres` extra: asyncpg)."""

from bot.memory.postgres.store import STALE_STREAM_S, PostgresStore
from bot.memory.postgres.target import PoolOptions

__all__ = ["STALE_STREAM_S", "PoolOptions", "PostgresStore"]
