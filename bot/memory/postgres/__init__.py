"""The PostgreSQL backend of the memory store (needs the `postgres` extra: asyncpg)."""

from bot.memory.postgres.backend import PostgresBackend
from bot.memory.postgres.target import PoolOptions

__all__ = ["PoolOptions", "PostgresBackend"]
