"""Fixtures for the migrate-db tests: a fresh PostgreSQL schema (see tests/memory)."""

from collections.abc import AsyncIterator

import pytest

from tests.memory.postgres_server import fresh_schema, postgres_url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A URL working in a fresh, empty PostgreSQL schema."""
    async with fresh_schema(postgres_url()) as url:
        yield url
