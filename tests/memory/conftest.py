"""Fixtures for the memory-store tests: a fake clock and an open store per backend.

The `store` fixture runs each test once per backend: SQLite in a fresh file, PostgreSQL in
a fresh schema of the server named by ENSEMBLE_TEST_POSTGRES_URL (skipped without one,
failing under CI=true; see `postgres_server`). Tests marked `sqlite_only` inspect the SQLite
file itself and run for that backend only.
"""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.memory import Store, open_store
from bot.memory.connect import OpeningStore

from .helpers import FakeClock
from .postgres_server import fresh_schema, postgres_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: inspects the SQLite file; sqlite backend only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the other backends' runs of `sqlite_only` tests."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("sqlite_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("target", "sqlite") != "sqlite"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Where the store under test lives (a file path for SQLite, a URL for PostgreSQL)."""
    if request.param == "sqlite":
        yield str(tmp_path / "memory" / "ensemble.sqlite3")
        return
    async with fresh_schema(postgres_url()) as url:
        yield url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A URL working in a fresh, empty PostgreSQL schema, for PostgreSQL-only tests."""
    async with fresh_schema(postgres_url()) as url:
        yield url


@pytest.fixture
async def store(target: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with open_store(target, clock=clock) as opened:
        yield opened


@pytest.fixture
def reopen(target: str, clock: FakeClock) -> Callable[[], OpeningStore]:
    """Open another store on the same database (a restart, or a second process)."""

    def opener() -> OpeningStore:
        return open_store(target, clock=clock)

    return opener
